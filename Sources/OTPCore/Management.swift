import Foundation

/// A page of a newest-first list, and the cursor of the next page (nil on the last).
package struct Page<Item: Sendable>: Sendable {
    package var items: [Item]
    package var nextCursor: String?

    package init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Filters shared by the lists: which apps (already checked against the key), a time range.
package struct ListScope: Sendable {
    package var appIDs: [String]
    package var from: Date?
    package var to: Date?
    package var limit: Int
    package var cursor: String?

    package init(appIDs: [String], from: Date?, to: Date?, limit: Int, cursor: String?) {
        self.appIDs = appIDs
        self.from = from
        self.to = to
        self.limit = limit
        self.cursor = cursor
    }
}

package struct VerificationFilter: Sendable {
    package var status: VerificationStatus?
    package var channel: MessageChannel?
    package var recipient: String?

    package init(status: VerificationStatus?, channel: MessageChannel?, recipient: String?) {
        self.status = status
        self.channel = channel
        self.recipient = recipient
    }
}

package struct AuditEvent: Sendable, Equatable {
    package var id: Int64
    package var at: Date
    package var event: String
    package var appID: String?
    package var verificationID: String?
    package var actor: String?
    package var ip: String?
    /// The event's details as a JSON object text.
    package var details: String
    /// The event is of a verification of a test number.
    package var test: Bool

    package init(
        id: Int64, at: Date, event: String, appID: String?, verificationID: String?, actor: String?, ip: String?,
        details: String, test: Bool = false
    ) {
        self.test = test
        self.id = id
        self.at = at
        self.event = event
        self.appID = appID
        self.verificationID = verificationID
        self.actor = actor
        self.ip = ip
        self.details = details
    }
}

/// A verify attempt, a delivery attempt or a webhook try, as `/otp/attempts` lists them.
package struct AttemptRecord: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable { case verify, delivery, webhook }

    package var kind: Kind
    package var id: Int64
    package var at: Date
    package var verificationID: String
    package var appID: String
    // verify
    package var success: Bool?
    package var reason: String?
    package var ip: String?
    // delivery
    package var provider: String?
    package var outcome: String?
    package var httpStatus: Int?
    package var providerMessageID: String?
    package var error: String?
    package var latencyMilliseconds: Int?
    // webhook (with httpStatus, error, latencyMilliseconds)
    package var event: String?
    package var url: String?

    package init(kind: Kind, id: Int64, at: Date, verificationID: String, appID: String) {
        self.kind = kind
        self.id = id
        self.at = at
        self.verificationID = verificationID
        self.appID = appID
    }
}

/// One row of a report: a group key and its numbers.
package struct ReportRow: Sendable, Equatable {
    package var key: String
    package var verifications = 0
    package var sent = 0
    package var delivered = 0
    package var failed = 0
    package var verified = 0
    package var expired = 0
    package var locked = 0
    package var latencyP50: Int?
    package var latencyP95: Int?
    /// Sends the fraud guard refused (`enforce`) and flagged (`monitor`).
    package var fraudBlocked = 0
    package var fraudFlagged = 0
    /// What the group's messages cost: the sum of its attempts' prices.
    package var cost: Decimal = 0

    package init(key: String) { self.key = key }

    package var conversionRate: Double { verifications == 0 ? 0 : Double(verified) / Double(verifications) }
}

package enum ReportGrouping: String, Sendable, CaseIterable {
    case day, channel, country
    /// Rows from the parts by provider (`ManagementStore.providerReportParts`): a verification whose
    /// messages went through two providers (a retry on the next one, a fallback) counts in both.
    case provider
}

/// The management side: lists for operators, and reports.
package protocol ManagementStore: Sendable {
    func verifications(_ scope: ListScope, _ filter: VerificationFilter) async throws -> Page<VerificationReport>
    /// The report parts by provider of `appIDs` from `from` to `to` (UTC days, YYYY-MM-DD).
    func providerReportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart]
    func events(_ scope: ListScope, verificationID: String?, event: String?) async throws -> Page<AuditEvent>
    func attempts(_ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?)
        async throws -> Page<AttemptRecord>
    /// The report parts of `appIDs` from `from` to `to` (UTC days, both inclusive): past days from
    /// the rollups, today computed live. `Reports.group` adds them up.
    func reportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart]
    /// What the fraud guard refused and flagged for `appIDs`, from its audit events: the scopes of
    /// the last hour, newest first, and the sends of each of the last 24 hours.
    func fraudActivity(appIDs: [String]) async throws -> FraudActivity
}

/// The fraud guard's recent decisions, for the dashboard's fraud page.
package struct FraudActivity: Sendable, Equatable {
    /// A scope over its line in the last hour: how many sends it refused and flagged, and the
    /// figures of its latest decision.
    package struct Scope: Sendable, Equatable {
        package var appID: String
        package var rule: String
        package var scope: String
        package var blocked: Int
        package var flagged: Int
        package var sentLastHour: Int
        package var verifiedLastHour: Int
        package var latest: Date

        package init(
            appID: String, rule: String, scope: String, blocked: Int, flagged: Int, sentLastHour: Int,
            verifiedLastHour: Int, latest: Date
        ) {
            (self.appID, self.rule, self.scope) = (appID, rule, scope)
            (self.blocked, self.flagged) = (blocked, flagged)
            (self.sentLastHour, self.verifiedLastHour, self.latest) = (sentLastHour, verifiedLastHour, latest)
        }

        package var conversion: Double { sentLastHour == 0 ? 0 : Double(verifiedLastHour) / Double(sentLastHour) }
    }

    /// One hour's refused and flagged sends.
    package struct Hour: Sendable, Equatable {
        package var start: Date
        package var blocked: Int
        package var flagged: Int

        package init(start: Date, blocked: Int, flagged: Int) {
            (self.start, self.blocked, self.flagged) = (start, blocked, flagged)
        }
    }

    package var scopes: [Scope]
    package var hours: [Hour]

    package init(scopes: [Scope], hours: [Hour]) {
        self.scopes = scopes
        self.hours = hours
    }
}

package enum CursorError: Error, Equatable {
    case invalid
}
