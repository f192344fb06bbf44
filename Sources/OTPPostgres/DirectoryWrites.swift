import Foundation
import OTPCore
import PostgresNIO

/// The statements that write apps and keys, shared by the admin CLI and the dashboard.
enum DirectoryWrites {
    static func insertApp(_ app: App) -> PostgresQuery {
        let policy = app.policy
        return """
            INSERT INTO otp.apps (id, account_id, name, code_length, ttl_seconds, max_attempts, max_sends,
                resend_cooldown_seconds, channels, default_channel, sender_name, resend_policy, fallback_channels,
                rate_limits, countries, refused_line_types, default_template, default_locale, message_options,
                whatsapp_templates, test_numbers, webhook_url, webhook_secret, fraud_guard, spend_limit_1d,
                test_outcomes)
            VALUES (\(app.id), \(app.accountID), \(app.name), \(policy.codeLength), \(policy.ttlSeconds),
                \(policy.maxAttempts), \(policy.maxSends), \(policy.resendCooldownSeconds),
                \(policy.channels.map(\.rawValue)), \(policy.defaultChannel.rawValue), \(policy.senderName),
                \(policy.resendPolicy.rawValue), \(policy.fallbackChannels.map(\.rawValue)),
                \(PolicyJSON.rateLimits(policy))::jsonb, \(PolicyJSON.countries(policy))::jsonb,
                \(PolicyJSON.lineTypes(policy))::jsonb, \(policy.messages.defaultTemplate),
                \(policy.messages.defaultLocale), \(PolicyJSON.messageOptions(policy))::jsonb,
                \(PolicyJSON.whatsAppTemplates(policy))::jsonb, \(PolicyJSON.testNumbers(policy))::jsonb,
                \(policy.webhook?.url),
                decode(\(policy.webhook?.sealedSecret.base64EncodedString())::text, 'base64'),
                \(PolicyJSON.fraudGuard(policy))::jsonb, \(policy.spendLimitPerDay.map { "\($0)" })::numeric,
                \(PolicyJSON.testOutcomes(policy))::jsonb)
            """
    }

    /// Writes the app's name and whole policy.
    static func updateApp(_ app: App) -> PostgresQuery {
        let policy = app.policy
        return """
            UPDATE otp.apps SET name = \(app.name), code_length = \(policy.codeLength),
                ttl_seconds = \(policy.ttlSeconds), max_attempts = \(policy.maxAttempts),
                max_sends = \(policy.maxSends), resend_cooldown_seconds = \(policy.resendCooldownSeconds),
                channels = \(policy.channels.map(\.rawValue)), default_channel = \(policy.defaultChannel.rawValue),
                sender_name = \(policy.senderName), resend_policy = \(policy.resendPolicy.rawValue),
                fallback_channels = \(policy.fallbackChannels.map(\.rawValue)),
                rate_limits = \(PolicyJSON.rateLimits(policy))::jsonb,
                countries = \(PolicyJSON.countries(policy))::jsonb,
                refused_line_types = \(PolicyJSON.lineTypes(policy))::jsonb,
                default_template = \(policy.messages.defaultTemplate),
                default_locale = \(policy.messages.defaultLocale),
                message_options = \(PolicyJSON.messageOptions(policy))::jsonb,
                whatsapp_templates = \(PolicyJSON.whatsAppTemplates(policy))::jsonb,
                test_numbers = \(PolicyJSON.testNumbers(policy))::jsonb,
                test_outcomes = \(PolicyJSON.testOutcomes(policy))::jsonb,
                webhook_url = \(policy.webhook?.url), webhook_secret = decode(\(policy.webhook?.sealedSecret.base64EncodedString())::text, 'base64'),
                fraud_guard = \(PolicyJSON.fraudGuard(policy))::jsonb, spend_limit_1d = \(policy.spendLimitPerDay.map { "\($0)" })::numeric,
                updated_at = now()
            WHERE id = \(app.id)
            """
    }

    /// A new key of the account for `appIDs`: its id, its random secret (stored only as a digest,
    /// and sealed under the key ring) and the statement that stores it.
    static func insertKey(accountID: Int64, appIDs: [String], secrets: APIKeySecrets) throws
        -> (keyID: String, secret: String, query: PostgresQuery)
    {
        let keyID = Identifiers.keyID()
        let secret = APIKeySecrets.newSecret()
        let sealed = try secrets.seal(secret, keyID: keyID)
        let query: PostgresQuery = try """
        INSERT INTO otp.api_keys (key_id, account_id, secret_digest, sealed_secret, app_ids)
        VALUES (\(keyID), \(accountID), \(APIKeySecrets.digest(of: secret)), \(sealed), \(Array(Set(appIDs)).sorted()))
        """
        return (keyID, secret, query)
    }
}
