import Foundation
import OTPCore

struct ListResponse<Item: Encodable>: Encodable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

struct EventItem: Encodable {
    var event: AuditEvent

    init(_ event: AuditEvent) { self.event = event }

    enum CodingKeys: String, CodingKey {
        case id, at, event, appid, actor, ip, details, test
        case verificationID = "verification_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(String(event.id), forKey: .id)
        try container.encode(event.at, forKey: .at)
        try container.encode(event.event, forKey: .event)
        try container.encode(event.appID, forKey: .appid)
        try container.encode(event.verificationID, forKey: .verificationID)
        try container.encode(event.actor, forKey: .actor)
        try container.encode(event.ip, forKey: .ip)
        let details = (try? JSONDecoder().decode([String: DetailValue].self, from: Data(event.details.utf8))) ?? [:]
        try container.encode(details, forKey: .details)
        try container.encode(event.test, forKey: .test)
    }
}

/// A value in an event's details: the store writes strings, numbers and booleans only.
enum DetailValue: Codable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .null
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value) where value == value.rounded() && abs(value) < 1e15: try container.encode(Int64(value))
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

struct AttemptItem: Encodable {
    var attempt: AttemptRecord

    init(_ attempt: AttemptRecord) { self.attempt = attempt }

    enum CodingKeys: String, CodingKey {
        case kind, at, success, reason, ip, provider, outcome, error, event, url
        case verificationID = "verification_id"
        case appid
        case httpStatus = "http_status"
        case providerMessageID = "provider_message_id"
        case latencyMilliseconds = "latency_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempt.kind.rawValue, forKey: .kind)
        try container.encode(attempt.at, forKey: .at)
        try container.encode(attempt.verificationID, forKey: .verificationID)
        try container.encode(attempt.appID, forKey: .appid)
        switch attempt.kind {
        case .verify:
            try container.encode(attempt.success, forKey: .success)
            try container.encode(attempt.reason, forKey: .reason)
            try container.encode(attempt.ip, forKey: .ip)
        case .delivery:
            try container.encode(attempt.provider, forKey: .provider)
            try container.encode(attempt.outcome, forKey: .outcome)
            try container.encode(attempt.httpStatus, forKey: .httpStatus)
            try container.encode(attempt.providerMessageID, forKey: .providerMessageID)
            try container.encode(attempt.error, forKey: .error)
            try container.encode(attempt.latencyMilliseconds, forKey: .latencyMilliseconds)
        case .webhook:
            try container.encode(attempt.event, forKey: .event)
            try container.encode(attempt.url, forKey: .url)
            try container.encode(attempt.httpStatus, forKey: .httpStatus)
            try container.encode(attempt.error, forKey: .error)
            try container.encode(attempt.latencyMilliseconds, forKey: .latencyMilliseconds)
        }
    }
}

struct ReportResponse: Encodable {
    var groupBy: ReportGrouping
    var rows: [ReportRow]
    var totals: ReportRow

    enum CodingKeys: String, CodingKey { case items, totals }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rows.map { ReportItem(row: $0, keyName: groupBy.rawValue) }, forKey: .items)
        try container.encode(ReportItem(row: totals, keyName: nil), forKey: .totals)
    }
}

struct ReportItem: Encodable {
    var row: ReportRow
    var keyName: String?

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        if let keyName { try container.encode(row.key, forKey: Key(stringValue: keyName)) }
        for (name, value) in ReportCSV.numbers(row) { try container.encode(value, forKey: Key(stringValue: name)) }
        try container.encode(row.cost, forKey: Key(stringValue: "cost"))
        try container.encode(row.conversionRate, forKey: Key(stringValue: "conversion_rate"))
    }
}

struct RateLimitsResponse: Encodable {
    var rules: [RateLimitItem]
}

struct RateLimitItem: Encodable {
    var status: RateLimitStatus

    init(_ status: RateLimitStatus) { self.status = status }

    enum CodingKeys: String, CodingKey {
        case rule, scope, limit, used, remaining
        case windowSeconds = "window_seconds"
        case resetAt = "reset_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status.rule.rawValue, forKey: .rule)
        try container.encode(status.scope, forKey: .scope)
        try container.encode(status.limit, forKey: .limit)
        try container.encode(status.rule.windowSeconds, forKey: .windowSeconds)
        try container.encode(status.used, forKey: .used)
        try container.encode(status.remaining, forKey: .remaining)
        try container.encode(status.resetAt, forKey: .resetAt)
    }
}
