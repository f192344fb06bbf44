import Foundation

/// The limits of the contract, each a fixed window counted in PostgreSQL and shared by every API
/// instance. Apps may change any limit; 0 turns a rule off.
package enum RateLimitRule: String, Sendable, CaseIterable, Codable {
    case recipient10m = "recipient_10m"
    case recipient1h = "recipient_1h"
    case recipient1d = "recipient_1d"
    case ip5m = "ip_5m"
    case app1h = "app_1h"
    case country1h = "country_1h"
    case prefix1h = "prefix_1h"
    case verifyIP5m = "verify_ip_5m"
    case verifyFailures1d = "verify_failures_1d"

    package var windowSeconds: Int {
        switch self {
        case .recipient10m: 600
        case .recipient1h, .app1h, .country1h, .prefix1h: 3600
        case .recipient1d, .verifyFailures1d: 86_400
        case .ip5m, .verifyIP5m: 300
        }
    }

    package var defaultLimit: Int {
        switch self {
        case .recipient10m: 5
        case .recipient1h: 10
        case .recipient1d: 20
        case .ip5m: 30
        case .app1h: 1000
        case .country1h: 500
        case .prefix1h: 20
        case .verifyIP5m: 30
        case .verifyFailures1d: 100
        }
    }

    /// What the rule counts per: shown as `scope` by `/otp/rate-limits`.
    package var scope: String {
        switch self {
        case .recipient10m, .recipient1h, .recipient1d, .verifyFailures1d: "recipient"
        case .ip5m, .verifyIP5m: "ip"
        case .app1h: "app"
        case .country1h: "country"
        case .prefix1h: "prefix"
        }
    }

    package static let sendRules: [RateLimitRule] = [
        .app1h, .country1h, .ip5m, .prefix1h, .recipient10m, .recipient1d, .recipient1h,
    ]
}

/// One counter to charge: the rule, what it counts (scoped to the app), and the limit.
package struct RateLimitCharge: Sendable, Equatable {
    package var rule: RateLimitRule
    package var scopeKey: String
    package var limit: Int

    package init(rule: RateLimitRule, scopeKey: String, limit: Int) {
        self.rule = rule
        self.scopeKey = scopeKey
        self.limit = limit
    }
}

package enum RateLimits {
    /// Budgets shared by a whole app (or country) would put every send of the app behind one row
    /// lock; from this limit on they are split into `shards` counters, each allowed its share
    /// (rounded down, so the shards together never admit more than the limit), and a send charges
    /// one at random. It may refuse a little early: when the shards fill unevenly, and by up to 15
    /// sends of rounding.
    static let shardFrom = 64
    static let shards = 16

    /// The charges of one send (or resend) to `recipient`, in one fixed order: concurrent sends take
    /// the counters' row locks in the same order and cannot deadlock. `sharded: false` gives each
    /// rule's whole counter, for reading.
    package static func sendCharges(app: App, recipient: ParsedPhoneNumber, ip: String?, sharded: Bool = true)
        -> [RateLimitCharge]
    {
        RateLimitRule.sendRules.compactMap { rule -> RateLimitCharge? in
            let limit = app.policy.rateLimits[rule.rawValue] ?? rule.defaultLimit
            guard limit > 0, let key = scopeKey(rule, app: app, recipient: recipient, ip: ip) else { return nil }
            if sharded && (rule == .app1h || rule == .country1h) && limit >= shardFrom {
                let share = limit / shards
                return RateLimitCharge(rule: rule, scopeKey: key + "#\(Int.random(in: 0..<shards))", limit: share)
            }
            return RateLimitCharge(rule: rule, scopeKey: key, limit: limit)
        }.sorted { $0.rule.rawValue < $1.rule.rawValue }
    }

    package static func verifyCharge(app: App, ip: String?) -> RateLimitCharge? {
        let limit = app.policy.rateLimits[RateLimitRule.verifyIP5m.rawValue] ?? RateLimitRule.verifyIP5m.defaultLimit
        guard limit > 0, let ip else { return nil }
        return RateLimitCharge(rule: .verifyIP5m, scopeKey: "\(app.id)|\(IPAddress.limitKey(ip))", limit: limit)
    }

    package static func failureCharge(app: App, recipient: String) -> RateLimitCharge? {
        let rule = RateLimitRule.verifyFailures1d
        let limit = app.policy.rateLimits[rule.rawValue] ?? rule.defaultLimit
        guard limit > 0 else { return nil }
        return RateLimitCharge(rule: rule, scopeKey: "\(app.id)|\(recipient)", limit: limit)
    }

    static func scopeKey(_ rule: RateLimitRule, app: App, recipient: ParsedPhoneNumber, ip: String?) -> String? {
        switch rule.scope {
        case "recipient": "\(app.id)|\(recipient.e164)"
        case "ip": ip.map { "\(app.id)|\(IPAddress.limitKey($0))" }
        case "app": app.id
        case "country": "\(app.id)|\(recipient.region)"
        case "prefix": "\(app.id)|\(recipient.prefix)"
        default: nil
        }
    }
}

/// A rule's state for one scope, as `/otp/rate-limits` reports it.
package struct RateLimitStatus: Sendable, Equatable {
    package var rule: RateLimitRule
    package var scope: String
    package var limit: Int
    package var used: Int
    package var resetAt: Date

    package init(rule: RateLimitRule, scope: String, limit: Int, used: Int, resetAt: Date) {
        self.rule = rule
        self.scope = scope
        self.limit = limit
        self.used = used
        self.resetAt = resetAt
    }

    package var remaining: Int { max(0, limit - used) }
}
