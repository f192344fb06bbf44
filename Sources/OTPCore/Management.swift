import Foundation

/// A page of a newest-first list, and the cursor of the next page (nil on the last).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Filters shared by the lists: which apps (already checked against the key), a time range.
public struct ListScope: Sendable {
    public var appIDs: [String]
    public var from: Date?
    public var to: Date?
    public var limit: Int
    public var cursor: String?

    public init(appIDs: [String], from: Date?, to: Date?, limit: Int, cursor: String?) {
        self.appIDs = appIDs
        self.from = from
        self.to = to
        self.limit = limit
        self.cursor = cursor
    }
}

public struct VerificationFilter: Sendable {
    public var status: VerificationStatus?
    public var channel: Channel?
    public var recipient: String?

    public init(status: VerificationStatus?, channel: Channel?, recipient: String?) {
        self.status = status
        self.channel = channel
        self.recipient = recipient
    }
}

public struct AuditEvent: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var event: String
    public var appID: String?
    public var verificationID: String?
    public var actor: String?
    public var ip: String?
    /// The event's details as a JSON object text.
    public var details: String

    public init(
        id: Int64, at: Date, event: String, appID: String?, verificationID: String?, actor: String?, ip: String?,
        details: String
    ) {
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

/// A verify attempt or a delivery attempt, as `/otp/attempts` lists them.
public struct AttemptRecord: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case verify, delivery }

    public var kind: Kind
    public var id: Int64
    public var at: Date
    public var verificationID: String
    public var appID: String
    // verify
    public var success: Bool?
    public var reason: String?
    public var ip: String?
    // delivery
    public var provider: String?
    public var outcome: String?
    public var httpStatus: Int?
    public var providerMessageID: String?
    public var error: String?
    public var latencyMilliseconds: Int?

    public init(kind: Kind, id: Int64, at: Date, verificationID: String, appID: String) {
        self.kind = kind
        self.id = id
        self.at = at
        self.verificationID = verificationID
        self.appID = appID
    }
}

/// One row of a report: a group key and its numbers.
public struct ReportRow: Sendable, Equatable {
    public var key: String
    public var verifications = 0
    public var sent = 0
    public var delivered = 0
    public var failed = 0
    public var verified = 0
    public var expired = 0
    public var locked = 0
    public var latencyP50: Int?
    public var latencyP95: Int?

    public init(key: String) { self.key = key }

    public var conversionRate: Double { verifications == 0 ? 0 : Double(verified) / Double(verifications) }
}

public enum ReportGrouping: String, Sendable, CaseIterable {
    case day, channel, country
}

/// The management side: lists for operators, and reports.
public protocol ManagementStore: Sendable {
    func verifications(_ scope: ListScope, _ filter: VerificationFilter) async throws -> Page<VerificationReport>
    func events(_ scope: ListScope, verificationID: String?, event: String?) async throws -> Page<AuditEvent>
    func attempts(_ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?)
        async throws -> Page<AttemptRecord>
    /// Days are UTC, both inclusive; past days from the rollups, today computed live.
    func report(appIDs: [String], from: String, to: String, groupBy: ReportGrouping) async throws
        -> (rows: [ReportRow], totals: ReportRow)
}

public enum CursorError: Error, Equatable {
    case invalid
}
