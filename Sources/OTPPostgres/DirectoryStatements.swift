import Foundation
import OTPCore
import PostgresNIO

// The two lookups every authenticated request makes, as statements PostgreSQL parses and plans
// once per connection rather than once per request.

/// An API key by its id, with its app when it may use exactly one.
struct APIKeyStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT k.account_id, k.secret_digest, k.app_ids, k.revoked_at IS NOT NULL, k.sealed_secret, \(AppColumns.list)
        FROM otp.api_keys k LEFT JOIN otp.apps a ON cardinality(k.app_ids) = 1 AND a.id = k.app_ids[1]
        WHERE k.key_id = $1::text
        """
    typealias Row = StoredAPIKey

    var keyID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(keyID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> StoredAPIKey {
        let columns = row.makeRandomAccess()
        let hasSoleApp = try columns[5].decode(String?.self) != nil
        return StoredAPIKey(
            keyID: keyID, accountID: try columns[0].decode(Int64.self), secretDigest: try columns[1].decode(Data.self),
            sealedSecret: try columns[4].decode(Data?.self), appIDs: try columns[2].decode([String]?.self),
            revoked: try columns[3].decode(Bool.self), soleApp: hasSoleApp ? try AppColumns.app(columns, from: 5) : nil)
    }
}

/// An app of one account.
struct AppStatement: PostgresPreparedStatement {
    static let sql = "SELECT \(AppColumns.list) FROM otp.apps a WHERE a.id = $1::text AND a.account_id = $2::bigint"
    typealias Row = App

    var appID: String
    var accountID: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(appID)
        bindings.append(accountID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> App { try AppColumns.app(row.makeRandomAccess(), from: 0) }
}

/// The columns an `App` is read from (table alias `a`), and how.
enum AppColumns {
    static let list = """
        a.id, a.account_id, a.name, a.code_length, a.ttl_seconds, a.max_attempts, a.max_sends,
        a.resend_cooldown_seconds, a.channels, a.default_channel, a.sender_name, a.resend_policy,
        a.fallback_channels, a.rate_limits::text, a.countries::text, a.refused_line_types::text,
        a.default_template, a.default_locale, a.message_options::text, a.whatsapp_templates::text,
        a.test_numbers::text, a.webhook_url, a.webhook_secret, a.fraud_guard::text, a.spend_limit_1d,
        a.test_outcomes::text
        """

    /// The app in the columns of `list`, the first of them at `first`.
    static func app(_ columns: PostgresRandomAccessRow, from first: Int) throws -> App {
        func column<Value: PostgresDecodable>(_ index: Int, _: Value.Type = Value.self) throws -> Value {
            try columns[first + index].decode(Value.self)
        }
        var policy = AppPolicy(
            codeLength: try column(3), ttlSeconds: try column(4), maxAttempts: try column(5),
            maxSends: try column(6), resendCooldownSeconds: try column(7),
            channels: try column(8, [String].self).map(MessageChannel.stored),
            defaultChannel: try MessageChannel.stored(column(9)), senderName: try column(10),
            resendPolicy: try AppPolicy.ResendPolicy.stored(column(11)),
            fallbackChannels: try column(12, [String].self).map(MessageChannel.stored))
        try PolicyJSON.readRules(
            PolicyJSON.RuleColumns(
                rateLimits: try column(13), countries: try column(14), lineTypes: try column(15),
                defaultTemplate: try column(16), defaultLocale: try column(17), options: try column(18),
                whatsApp: try column(19), testNumbers: try column(20), fraudGuard: try column(23),
                testOutcomes: try column(25)),
            into: &policy)
        policy.spendLimitPerDay = try column(24, Decimal?.self)
        if let url = try column(21, String?.self), let secret = try column(22, Data?.self) {
            policy.webhook = AppWebhook(url: url, sealedSecret: secret)
        }
        return App(id: try column(0), accountID: try column(1), name: try column(2), policy: policy)
    }
}
