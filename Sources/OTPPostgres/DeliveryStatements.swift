import Foundation
import OTPCore
import PostgresNIO

// The worker's two statements, prepared once per connection.

/// Claims up to `limit` due deliveries through the partial index of queued rows, skipping rows other
/// workers hold, and returns them with what sending needs (app name, verification status).
struct ClaimStatement: PostgresPreparedStatement {
    static let sql = """
        UPDATE otp.deliveries d SET state = 'sending', attempts = d.attempts + 1,
            locked_until = now() + make_interval(secs => $2::bigint), locked_by = $3::text, updated_at = now()
        FROM otp.apps a, otp.verifications v
        WHERE a.id = d.app_id AND v.id = d.verification_id AND d.id IN (
            SELECT id FROM otp.deliveries WHERE state = 'queued' AND run_at <= now()
            ORDER BY run_at, id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.verification_id, d.app_id, a.name AS app_name, d.channel, d.recipient, d.sender,
            d.sealed_code, d.attempts, v.expires_at, a.fallback_channels,
            v.status = '\(VerificationStatus.pending.rawValue)' AS verification_pending, now() AS claimed_at,
            d.message_template, d.whatsapp_template, d.whatsapp_language, v.test, d.prepared, d.requested_template,
            d.locale, v.country, d.run_at AS due_at, d.trace_parent,
            CASE WHEN v.test THEN a.test_outcomes ->> d.recipient END AS test_outcome
        """
    typealias Row = ClaimedDelivery

    var limit: Int
    var leaseSeconds: Int
    var workerID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(limit)
        bindings.append(leaseSeconds)
        bindings.append(workerID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> ClaimedDelivery {
        let columns = row.makeRandomAccess()
        let whatsAppName = try columns.value("whatsapp_template", String?.self)
        let whatsAppLanguage = try columns.value("whatsapp_language", String?.self)
        var delivery = ClaimedDelivery(
            id: try columns.value("id"), verificationID: try columns.value("verification_id"),
            appID: try columns.value("app_id"),
            appName: try columns.value("app_name"), channel: try MessageChannel.stored(columns.value("channel")),
            recipient: try columns.value("recipient"), sender: try columns.value("sender"),
            sealedCode: try columns.value("sealed_code"),
            attempt: try columns.value("attempts"), expiresAt: try columns.value("expires_at"),
            fallbackChannels: try columns.value("fallback_channels", [String].self).map(MessageChannel.stored),
            verificationPending: try columns.value("verification_pending"), claimedAt: try columns.value("claimed_at"),
            messageTemplate: try columns.value("message_template"),
            whatsAppTemplate: whatsAppName.flatMap { name in
                whatsAppLanguage.map { WhatsAppTemplate(name: name, language: $0) }
            }, test: try columns.value("test"))
        delivery.prepared = try columns.value("prepared")
        delivery.requestedTemplate = try columns.value("requested_template")
        delivery.requestedLocale = try columns.value("locale")
        delivery.country = try columns.value("country")
        delivery.dueAt = try columns.value("due_at")
        delivery.traceParent = try columns.value("trace_parent")
        delivery.testOutcome = try columns.value("test_outcome", String?.self).flatMap(TestOutcome.init)
        return delivery
    }
}

/// Records a batch of outcomes (QUEUE.md: acknowledge completions in batches): moves each delivery
/// the worker still holds to its next state, hands failed ones to their fallback channel, and writes
/// the attempts and events. The batch travels as one JSON array, which keeps its nulls.
///
/// "Still holds" is the worker and the claim: an outcome counts only while the row's `attempts` is
/// the one its claim set. A worker paused past its lease may claim the delivery again once it
/// resumes, while its first call is still finishing; that call's outcome is then stale.
///
/// It first locks its verifications' rows (in id order, as a verify batch locks them), so that its
/// events and a concurrent verify's commit in the order their ids were drawn: an app's status
/// webhooks go out in id order per verification, and without the lock a `delivery.sent` could
/// commit, and go out, before a `verification.verified` that drew a smaller id (the chaos soak saw
/// 12 in 8,462).
struct FinishStatement: PostgresPreparedStatement {
    static let sql = """
        WITH o AS (
            SELECT * FROM json_to_recordset($1::json) AS o (id bigint, verification_id text, app_id text,
                state text, run_at double precision, reason text, sent_by text, message_id text, fallback text,
                attempt integer, provider text, outcome text, http_status integer, provider_message_id text,
                error_code text, error text, latency_ms integer, price numeric, price_currency text,
                price_source text)
        ), locked AS (
            SELECT v.id FROM otp.verifications v WHERE v.id IN (SELECT verification_id FROM o)
            ORDER BY v.id COLLATE "C" FOR NO KEY UPDATE
        ), d AS (
            UPDATE otp.deliveries t SET state = o.state, run_at = coalesce(to_timestamp(o.run_at), t.run_at),
                locked_until = NULL, locked_by = NULL, last_error = coalesce(o.reason, t.last_error),
                provider = coalesce(o.sent_by, t.provider),
                provider_message_id = coalesce(o.message_id, t.provider_message_id),
                sealed_code = CASE WHEN o.state = 'queued' THEN t.sealed_code END,
                sent_at = CASE WHEN o.state = 'sent' THEN now() ELSE t.sent_at END,
                finished_at = CASE WHEN o.state <> 'queued' THEN now() END,
                updated_at = now()
            FROM o WHERE t.id = o.id AND t.state = 'sending' AND t.locked_by = $2::text AND t.attempts = o.attempt
                AND (SELECT count(*) FROM locked) >= 0  -- the locks before any row changes
            RETURNING t.id
        ), handed AS (
            -- The new delivery's id is drawn first so that its event can name the one it replaces.
            SELECT o.id AS from_id, nextval(pg_get_serial_sequence('otp.deliveries', 'id')) AS id, o.fallback AS channel
            FROM o JOIN d USING (id) WHERE o.fallback IS NOT NULL
        ), f AS (
            -- The CTEs see the row as it was, sealed code included, before d erased it.
            INSERT INTO otp.deliveries (id, verification_id, app_id, channel, recipient, sender, sealed_code,
                expires_at, message_template, template_id, template_version, locale, whatsapp_template,
                whatsapp_language, trace_parent)
            OVERRIDING SYSTEM VALUE
            SELECT h.id, x.verification_id, x.app_id, h.channel, x.recipient, x.sender, x.sealed_code, x.expires_at,
                x.message_template, x.template_id, x.template_version, x.locale, x.whatsapp_template,
                x.whatsapp_language, x.trace_parent
            FROM handed h JOIN otp.deliveries x ON x.id = h.from_id
            RETURNING id, verification_id, app_id, channel
        ), fv AS (
            UPDATE otp.verifications v SET channel = f.channel, updated_at = now() FROM f WHERE v.id = f.verification_id
        ), fe AS (
            INSERT INTO otp.events (event, app_id, verification_id, details)
            SELECT '\(EventKind.deliveryQueued.rawValue)', f.app_id, f.verification_id,
                jsonb_build_object('delivery_id', f.id, 'channel', f.channel, 'fallback_from', h.from_id)
            FROM f JOIN handed h USING (id)
        ), a AS (
            INSERT INTO otp.delivery_attempts (delivery_id, verification_id, app_id, provider, outcome,
                http_status, provider_message_id, error_code, error, latency_ms, price, price_currency, price_source)
            SELECT id, verification_id, app_id, provider, outcome, http_status, provider_message_id, error_code, error,
                latency_ms, price, price_currency, price_source
            FROM o WHERE provider IS NOT NULL
        ), ev AS (
            INSERT INTO otp.events (event, app_id, verification_id, details)
            SELECT e.event, o.app_id, o.verification_id,
                jsonb_strip_nulls(jsonb_build_object('delivery_id', o.id, 'attempt', o.attempt,
                    'provider', coalesce(o.provider, o.sent_by), 'http_status', o.http_status,
                    'error_code', o.error_code, 'reason', o.reason))
            FROM o JOIN d USING (id), LATERAL (VALUES
                (1, '\(EventKind.deliveryAttemptFailed.rawValue)', o.outcome <> 'accepted'),
                (2, '\(EventKind.deliverySent.rawValue)', o.state = 'sent'),
                (3, '\(EventKind.deliveryFailed.rawValue)', o.state = 'failed')
            ) AS e (n, event, happened)
            WHERE e.happened
            ORDER BY o.id, e.n
        )
        SELECT count(*) FROM handed
        """
    /// How many deliveries were handed to a fallback channel (new work to wake workers for).
    typealias Row = Int

    var outcomes: [DeliveryOutcome]
    var workerID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(String(decoding: try JSONEncoder().encode(outcomes.map(OutcomeRow.init)), as: UTF8.self))
        bindings.append(workerID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// One outcome as a row of the batch: the shape `json_to_recordset` reads.
private struct OutcomeRow: Encodable {
    var id: Int64
    var verificationId: String
    var appId: String
    var state: String
    var runAt: Double?
    var reason: String?
    var sentBy: String?
    var messageId: String?
    var fallback: String?
    var attempt: Int
    var provider: String?
    var outcome: String?
    var httpStatus: Int?
    var providerMessageId: String?
    var errorCode: String?
    var error: String?
    var latencyMs: Int?
    /// A decimal string: JSON numbers would pass through binary floating point.
    var price: String?
    var priceCurrency: String?
    var priceSource: String?

    // Spelled out: `convertToSnakeCase` converted every key of every row anew.
    enum CodingKeys: String, CodingKey {
        case id, state, reason, fallback, attempt, provider, outcome, error
        case verificationId = "verification_id", appId = "app_id", runAt = "run_at", sentBy = "sent_by"
        case messageId = "message_id", httpStatus = "http_status", providerMessageId = "provider_message_id"
        case errorCode = "error_code", latencyMs = "latency_ms"
        case price, priceCurrency = "price_currency", priceSource = "price_source"
    }

    init(_ source: DeliveryOutcome) {
        let delivery = source.delivery
        (id, verificationId, appId, attempt) = (
            delivery.id, delivery.verificationID, delivery.appID, delivery.attempt
        )
        switch source.resolution {
        case .sent(let by, let id):
            (state, sentBy, messageId) = ("sent", by, id)
        case .retry(let at, let why):
            (state, runAt, reason) = ("queued", at.timeIntervalSince1970, why)
        case .failed(let why):
            (state, reason) = ("failed", why)
        case .fallback(let why, let channel):
            (state, reason, fallback) = ("failed", why, channel.rawValue)
        case .canceled(let why):
            (state, reason) = ("canceled", why)
        }
        if let attempt = source.attempt {
            let result = attempt.result
            (provider, outcome, httpStatus) = (attempt.provider, result.outcome.rawValue, result.httpStatus)
            (providerMessageId, errorCode, error) = (result.providerMessageID, result.errorCode, result.errorMessage)
            latencyMs = attempt.latencyMilliseconds
            price = attempt.price.map { "\($0)" }
            priceCurrency = attempt.priceCurrency
            priceSource = attempt.priceSource?.rawValue
        }
    }
}
