import Foundation
import OTPCore
import PostgresNIO

// The two lookups every authenticated request makes, as statements PostgreSQL parses and plans
// once per connection rather than once per request.

/// An API key by its id.
struct APIKeyStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT account_id, secret_digest, app_ids, revoked_at IS NOT NULL FROM otp.api_keys WHERE key_id = $1::text
        """
    typealias Row = StoredAPIKey

    var keyID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(keyID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> StoredAPIKey {
        let (accountID, digest, appIDs, revoked) = try row.decode((Int64, Data, [String]?, Bool).self)
        return StoredAPIKey(keyID: keyID, accountID: accountID, secretDigest: digest, appIDs: appIDs, revoked: revoked)
    }
}

/// An app of one account.
struct AppStatement: PostgresPreparedStatement {
    static var sql: String {
        "SELECT \(AppColumns.list) FROM otp.apps a WHERE a.id = $1::text AND a.account_id = $2::bigint"
    }
    typealias Row = App

    var appID: String
    var accountID: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(appID)
        bindings.append(accountID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> App { try AppColumns.app(row) }
}

/// The columns an `App` is read from (table alias `a`), and how.
enum AppColumns {
    static let list = """
        a.id, a.account_id, a.name, a.code_length, a.ttl_seconds, a.max_attempts, a.max_sends,
        a.resend_cooldown_seconds, a.channels, a.default_channel, a.sender_name, a.resend_policy,
        a.fallback_channel, a.rate_limits::text, a.countries::text, a.refused_line_types::text,
        a.default_template, a.default_locale, a.message_options::text, a.whatsapp_templates::text
        """

    static func app(_ row: PostgresRow) throws -> App {
        let row = try row.decode(
            (
                String, Int64, String, Int, Int, Int, Int, Int, [String], String, String?, String, String?, String,
                String, String, String?, String?, String, String
            ).self)
        var policy = AppPolicy(
            codeLength: row.3, ttlSeconds: row.4, maxAttempts: row.5, maxSends: row.6,
            resendCooldownSeconds: row.7, channels: row.8.compactMap(OTPCore.Channel.init(rawValue:)),
            defaultChannel: OTPCore.Channel(rawValue: row.9) ?? .sms, senderName: row.10,
            resendPolicy: AppPolicy.ResendPolicy(rawValue: row.11) ?? .newCode,
            fallbackChannel: row.12.flatMap(OTPCore.Channel.init(rawValue:)))
        PolicyJSON.read(rateLimits: row.13, countries: row.14, lineTypes: row.15, into: &policy)
        PolicyJSON.readMessages(
            defaultTemplate: row.16, defaultLocale: row.17, options: row.18, whatsApp: row.19, into: &policy)
        return App(id: row.0, accountID: row.1, name: row.2, policy: policy)
    }
}
