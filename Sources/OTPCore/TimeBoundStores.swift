/// The template store, every call bounded by its deadline.
package struct TimeBoundTemplateStore: TemplateStore {
    let base: any TemplateStore
    let deadline: Deadline

    package init(_ base: any TemplateStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func create(appID: String, name: String, locale: String, body: String) async throws -> CustomTemplate {
        try await deadline.run { try await base.create(appID: appID, name: name, locale: locale, body: body) }
    }

    package func template(id: String, appIDs: [String]) async throws -> CustomTemplate? {
        try await deadline.run { try await base.template(id: id, appIDs: appIDs) }
    }

    package func list(appIDs: [String], limit: Int, cursor: String?) async throws -> Page<CustomTemplate> {
        try await deadline.run { try await base.list(appIDs: appIDs, limit: limit, cursor: cursor) }
    }

    package func update(id: String, appIDs: [String], name: String?, locale: String?, body: String?) async throws
        -> CustomTemplate?
    {
        try await deadline.run {
            try await base.update(id: id, appIDs: appIDs, name: name, locale: locale, body: body)
        }
    }

    package func delete(id: String, appIDs: [String]) async throws -> Bool {
        try await deadline.run { try await base.delete(id: id, appIDs: appIDs) }
    }
}

/// The management store, every call bounded by its deadline.
package struct TimeBoundManagementStore: ManagementStore {
    let base: any ManagementStore
    let deadline: Deadline

    package init(_ base: any ManagementStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func verifications(_ scope: ListScope, _ filter: VerificationFilter) async throws
        -> Page<VerificationReport>
    {
        try await deadline.run { try await base.verifications(scope, filter) }
    }

    package func events(_ scope: ListScope, verificationID: String?, event: String?) async throws -> Page<AuditEvent> {
        try await deadline.run { try await base.events(scope, verificationID: verificationID, event: event) }
    }

    package func attempts(_ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?)
        async throws -> Page<AttemptRecord>
    {
        try await deadline.run {
            try await base.attempts(scope, verificationID: verificationID, recipient: recipient, kind: kind)
        }
    }

    package func reportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart] {
        try await deadline.run { try await base.reportParts(appIDs: appIDs, from: from, to: to) }
    }
}

/// The receipt store, every call bounded by its deadline.
package struct TimeBoundReceiptStore: DeliveryReceiptStore {
    let base: any DeliveryReceiptStore
    let deadline: Deadline

    package init(_ base: any DeliveryReceiptStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func record(_ receipt: DeliveryReceipt) async throws -> Bool {
        try await deadline.run { try await base.record(receipt) }
    }
}
