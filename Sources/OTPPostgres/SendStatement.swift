import Foundation
import OTPCore
import PostgresNIO

/// One send: the verification, its first delivery and two events, in one statement (one implicit
/// transaction). Prepared once per connection: planning these CTEs cost more than running them.
/// Every parameter carries its type, since a prepared statement's types are fixed at its first use.
struct SendStatement: PostgresPreparedStatement {
    static let sql = """
        WITH v AS (
            INSERT INTO otp.verifications (id, app_id, recipient, country, channel, sender, locale, code_digest,
                sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
                resend_available_at, test)
            VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::bytea, $9::bytea,
                $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::text::jsonb,
                now() + make_interval(secs => $11::bigint), now() + make_interval(secs => $15::bigint), $25::boolean)
            RETURNING id, app_id, channel, recipient, sender, expires_at, resend_available_at
        ), d AS (
            INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, sealed_code, expires_at,
                message_template, template_id, template_version, locale, whatsapp_template, whatsapp_language)
            SELECT id, app_id, channel, recipient, sender, $16::bytea, expires_at, $17::text, $18::text, $19::bigint,
                $20::text, $21::text, $22::text FROM v
            RETURNING id
        ), e AS (
            INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
            SELECT x.event, v.app_id, v.id, $23::text, $24::text, x.details
            FROM v, d, LATERAL (VALUES
                ('\(EventKind.sendRequested.rawValue)', jsonb_build_object('channel', v.channel)),
                ('\(EventKind.deliveryQueued.rawValue)', jsonb_build_object('delivery_id', d.id, 'channel', v.channel))
            ) AS x (event, details)
        )
        SELECT v.expires_at, v.resend_available_at FROM v
        """
    typealias Row = (expiresAt: Date, resendAvailableAt: Date)

    var new: NewVerification
    var actor: Caller

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(new.id)
        bindings.append(new.appID)
        bindings.append(new.recipient)
        bindings.append(new.country)
        bindings.append(new.channel.rawValue)
        bindings.append(new.sender)
        bindings.append(new.locale)
        try bindings.append(new.codeDigest)
        try bindings.append(new.keepsSealedCode ? new.sealedCode : nil)
        bindings.append(new.codeLength)
        bindings.append(new.ttlSeconds)
        bindings.append(new.maxAttempts)
        bindings.append(new.maxSends)
        bindings.append(String(decoding: try JSONEncoder().encode(new.metadata), as: UTF8.self))
        bindings.append(new.resendCooldownSeconds)
        try bindings.append(new.sealedCode)
        bindings.append(new.message.template)
        bindings.append(new.message.templateID)
        bindings.append(new.message.templateVersion)
        bindings.append(new.message.locale)
        bindings.append(new.message.whatsAppTemplate?.name)
        bindings.append(new.message.whatsAppTemplate?.language)
        bindings.append(actor.keyID)
        bindings.append(actor.ip)
        bindings.append(new.test)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (expiresAt, resendAvailableAt) = try row.decode((Date, Date).self)
        return (expiresAt, resendAvailableAt)
    }
}
