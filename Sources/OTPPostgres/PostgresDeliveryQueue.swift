import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The delivery queue on `otp.deliveries`: claims through the partial index of queued rows with
/// `FOR UPDATE SKIP LOCKED`, commits before any provider is called, and records each outcome in one
/// statement.
public struct PostgresDeliveryQueue: DeliveryQueue {
    public static let channel = "otp_deliveries"

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func claim(limit: Int, lease: Duration, workerID: String) async throws -> [ClaimedDelivery] {
        let leaseSeconds = Double(lease.components.seconds)
        let rows = try await client.query(
            """
            UPDATE otp.deliveries d SET state = 'sending', attempts = d.attempts + 1,
                locked_until = now() + make_interval(secs => \(leaseSeconds)), locked_by = \(workerID), updated_at = now()
            FROM otp.apps a, otp.verifications v
            WHERE a.id = d.app_id AND v.id = d.verification_id AND d.id IN (
                SELECT id FROM otp.deliveries WHERE state = 'queued' AND run_at <= now()
                ORDER BY run_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING d.id, d.verification_id, d.app_id, a.name, d.channel, d.recipient, d.sender, d.sealed_code,
                d.attempts, v.expires_at, a.fallback_channel, v.status = 'pending', now(), d.message_template,
                d.whatsapp_template, d.whatsapp_language
            """, logger: logger)
        var claimed: [ClaimedDelivery] = []
        for try await row in rows.decode(
            (
                Int64, String, String, String, String, String, String?, Data?, Int, Date, String?, Bool, Date, String?,
                String?, String?
            ).self)
        {
            claimed.append(
                ClaimedDelivery(
                    id: row.0, verificationID: row.1, appID: row.2, appName: row.3,
                    channel: OTPCore.Channel(rawValue: row.4) ?? .sms, recipient: row.5, sender: row.6,
                    sealedCode: row.7, attempt: row.8, expiresAt: row.9,
                    fallbackChannel: row.10.flatMap(OTPCore.Channel.init(rawValue:)), verificationPending: row.11,
                    claimedAt: row.12, messageTemplate: row.13,
                    whatsAppTemplate: row.14.flatMap { name in row.15.map { WhatsAppTemplate(name: name, language: $0) }
                    }))
        }
        return claimed.sorted { $0.id < $1.id }
    }

    public func finish(
        _ delivery: ClaimedDelivery, attempt: DeliveryAttempt?, resolution: DeliveryResolution, workerID: String
    ) async throws {
        let state: String
        var runAt: Date? = nil
        var provider: String? = nil
        var messageID: String? = nil
        var reason: String? = nil
        var fallback: String? = nil
        var events: [String] = []
        if let attempt, attempt.result.outcome != .accepted { events.append("delivery_attempt_failed") }
        switch resolution {
        case .sent(let sentBy, let sentID):
            state = "sent"
            (provider, messageID) = (sentBy, sentID)
            events.append("delivery_sent")
        case .retry(let at, let why):
            state = "queued"
            (runAt, reason) = (at, why)
        case .failed(let why):
            state = "failed"
            reason = why
            events.append("delivery_failed")
        case .fallback(let why, let channel):
            state = "failed"
            (reason, fallback) = (why, channel.rawValue)
            events.append("delivery_failed")
        case .canceled(let why):
            state = "canceled"
            reason = why
        }
        let result = attempt?.result
        try await client.query(
            """
            WITH d AS (
                UPDATE otp.deliveries SET state = \(state), run_at = coalesce(\(runAt)::timestamptz, run_at),
                    locked_until = NULL, locked_by = NULL, last_error = coalesce(\(reason)::text, last_error),
                    provider = coalesce(\(provider)::text, provider),
                    provider_message_id = coalesce(\(messageID)::text, provider_message_id),
                    sealed_code = CASE WHEN \(state) = 'queued' THEN sealed_code END,
                    sent_at = CASE WHEN \(state) = 'sent' THEN now() ELSE sent_at END,
                    finished_at = CASE WHEN \(state) <> 'queued' THEN now() END,
                    updated_at = now()
                WHERE id = \(delivery.id) AND state = 'sending' AND locked_by = \(workerID)
                RETURNING id
            ), f AS (
                -- The CTEs see the row as it was, sealed code included, before d erased it.
                INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, sealed_code, expires_at,
                    message_template, template_id, template_version, locale, whatsapp_template, whatsapp_language)
                SELECT o.verification_id, o.app_id, \(fallback)::text, o.recipient, o.sender, o.sealed_code, o.expires_at,
                    o.message_template, o.template_id, o.template_version, o.locale, o.whatsapp_template,
                    o.whatsapp_language
                FROM otp.deliveries o, d WHERE o.id = d.id AND \(fallback)::text IS NOT NULL
                RETURNING id, verification_id, app_id, channel
            ), fv AS (
                UPDATE otp.verifications v SET channel = f.channel, updated_at = now() FROM f WHERE v.id = f.verification_id
            ), fe AS (
                INSERT INTO otp.events (event, app_id, verification_id, details)
                SELECT 'delivery_queued', app_id, verification_id,
                    jsonb_build_object('delivery_id', id, 'channel', channel, 'fallback_from', \(delivery.id))
                FROM f
            ), a AS (
                INSERT INTO otp.delivery_attempts (delivery_id, verification_id, app_id, provider, outcome,
                    http_status, provider_message_id, error_code, error, latency_ms)
                SELECT \(delivery.id), \(delivery.verificationID), \(delivery.appID), \(attempt?.provider)::text,
                    \(result?.outcome.rawValue)::text, \(result?.httpStatus)::integer,
                    \(result?.providerMessageID)::text, \(result?.errorCode)::text, \(result?.errorMessage)::text,
                    \(attempt?.latencyMilliseconds)::integer
                WHERE \(attempt != nil)
            )
            INSERT INTO otp.events (event, app_id, verification_id, details)
            SELECT e, \(delivery.appID), \(delivery.verificationID),
                jsonb_strip_nulls(jsonb_build_object('delivery_id', \(delivery.id), 'attempt', \(delivery.attempt),
                    'provider', \(attempt?.provider ?? provider)::text, 'http_status', \(result?.httpStatus)::integer,
                    'error_code', \(result?.errorCode)::text, 'reason', \(reason)::text))
            FROM unnest(\(events)::text[]) AS e WHERE EXISTS (SELECT 1 FROM d)
            """, logger: logger)
        if fallback != nil { try await client.query("SELECT pg_notify(\(Self.channel), '')", logger: logger) }
    }

    public func requeueExpiredLeases() async throws -> Int {
        let rows = try await client.query(
            """
            UPDATE otp.deliveries SET state = 'queued', locked_until = NULL, locked_by = NULL, run_at = now(),
                updated_at = now()
            WHERE state = 'sending' AND locked_until < now()
            RETURNING id
            """, logger: logger)
        return try await rows.collect().count
    }

    public func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double) {
        let rows = try await client.query(
            """
            SELECT count(*)::bigint,
                coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
            FROM otp.deliveries WHERE state = 'queued'
            """, logger: logger)
        for try await (count, age) in rows.decode((Int, Double).self) { return (count, age) }
        return (0, 0)
    }

    public func listenForWork(_ wake: @Sendable () -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.channel) { notifications in
                for try await _ in notifications { wake() }
            }
        }
    }
}
