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

/// The dashboard's users and sessions, every call bounded by its deadline.
package struct TimeBoundDashboardUserStore: DashboardUserStore {
    let base: any DashboardUserStore
    let deadline: Deadline

    package init(_ base: any DashboardUserStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func credentials(email: String) async throws -> UserCredentials? {
        try await deadline.run { try await base.credentials(email: email) }
    }

    package func chargeLoginTry(email: String, ip: String?) async throws {
        try await deadline.run { try await base.chargeLoginTry(email: email, ip: ip) }
    }

    package func refundLoginTry(email: String, ip: String?) async throws {
        try await deadline.run { try await base.refundLoginTry(email: email, ip: ip) }
    }

    package func startSession(_ token: SessionToken, userID: Int64) async throws {
        try await deadline.run { try await base.startSession(token, userID: userID) }
    }

    package func session(_ token: SessionToken) async throws -> DashboardUser? {
        try await deadline.run { try await base.session(token) }
    }

    package func endSession(_ token: SessionToken) async throws {
        try await deadline.run { try await base.endSession(token) }
    }
}

/// An account's administration, every call bounded by its deadline.
package struct TimeBoundAccountAdministration: AccountAdministration {
    let base: any AccountAdministration
    let deadline: Deadline

    package init(_ base: any AccountAdministration, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func apps(accountID: Int64) async throws -> [App] {
        try await deadline.run { try await base.apps(accountID: accountID) }
    }

    package func createApp(name: String, accountID: Int64, policy: AppPolicy, by caller: Caller) async throws -> App {
        try await deadline.run {
            try await base.createApp(name: name, accountID: accountID, policy: policy, by: caller)
        }
    }

    package func updateApp(
        id: String, accountID: Int64, by caller: Caller, _ change: @escaping @Sendable (inout App) throws -> Void
    ) async throws -> App? {
        try await deadline.run { try await base.updateApp(id: id, accountID: accountID, by: caller, change) }
    }

    package func keys(accountID: Int64) async throws -> [APIKeySummary] {
        try await deadline.run { try await base.keys(accountID: accountID) }
    }

    package func createKey(accountID: Int64, appIDs: [String], by caller: Caller) async throws
        -> (keyID: String, secret: String)
    {
        try await deadline.run { try await base.createKey(accountID: accountID, appIDs: appIDs, by: caller) }
    }

    package func revokeKey(id: String, accountID: Int64, by caller: Caller) async throws -> Bool {
        try await deadline.run { try await base.revokeKey(id: id, accountID: accountID, by: caller) }
    }

    package func queueDepth(appIDs: [String]) async throws -> Int {
        try await deadline.run { try await base.queueDepth(appIDs: appIDs) }
    }

    package func record(_ kind: EventKind, appID: String, by caller: Caller, details: [String: String]) async throws {
        try await deadline.run { try await base.record(kind, appID: appID, by: caller, details: details) }
    }
}
