import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The queue of apps' status webhooks on `otp.webhook_events`, claimed and finished as the
/// deliveries are (`PostgresDeliveryQueue`): SKIP LOCKED through the partial index of queued rows,
/// a lease, outcomes recorded in batches. The events themselves are queued by a trigger on
/// `otp.events`, in the transaction of the change they report (migration 0014).
package struct PostgresWebhookQueue: QueueOnJobTable {
    package static let channel = "otp_webhooks"
    package let kind = "webhook"

    let client: PostgresClient
    let logger: Logger
    let jobs: JobTable

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.jobs = JobTable(table: "webhook_events", channel: Self.channel, client: client, logger: logger)
    }

    package func claim(limit: Int, lease: Duration, workerID: String) async throws -> [ClaimedWebhook] {
        try await jobs.claim(
            ClaimWebhookStatement(limit: limit, leaseSeconds: Int(lease.components.seconds), workerID: workerID),
            id: \.id)
    }

    package func finish(_ outcomes: [WebhookOutcome], workerID: String) async throws {
        try await DatabaseFaults.mapping {
            guard !outcomes.isEmpty else { return }
            for try await _ in try await client.execute(
                FinishWebhookStatement(outcomes: outcomes, workerID: workerID), logger: logger)
            {}
            // A finished event frees the next one of its verification: wake the workers for it.
            if outcomes.contains(where: { if case .retry = $0.resolution { false } else { true } }) {
                try await jobs.wakeWorkers()
            }
        }
    }
}

/// Claims up to `limit` due events, each only when no earlier event of its verification is still
/// waiting or in flight (so one verification's events arrive in the order they happened), with
/// the app's webhook as it is now.
struct ClaimWebhookStatement: PostgresPreparedStatement {
    static let sql = """
        UPDATE otp.webhook_events w SET state = 'sending', attempts = w.attempts + 1,
            locked_until = now() + make_interval(secs => $2::bigint), locked_by = $3::text, updated_at = now()
        FROM otp.apps a
        WHERE a.id = w.app_id AND w.id IN (
            SELECT q.id FROM otp.webhook_events q
            WHERE q.state = 'queued' AND q.run_at <= now() AND NOT EXISTS (
                SELECT 1 FROM otp.webhook_events p
                WHERE p.verification_id = q.verification_id AND p.id < q.id AND p.state IN ('queued', 'sending'))
            ORDER BY q.run_at, q.id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)
        RETURNING w.id, w.webhook_id, w.app_id, w.verification_id, w.type, w.body, w.attempts, w.created_at,
            a.webhook_url, a.webhook_secret
        """
    typealias Row = ClaimedWebhook

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

    func decodeRow(_ row: PostgresRow) throws -> ClaimedWebhook {
        let columns = row.makeRandomAccess()
        let url = try columns.value("webhook_url", String?.self)
        let secret = try columns.value("webhook_secret", Data?.self)
        let event = try AppWebhookEvent.stored(columns.value("type"))
        return ClaimedWebhook(
            id: try columns.value("id"), webhookID: try columns.value("webhook_id"), appID: try columns.value("app_id"),
            verificationID: try columns.value("verification_id"), event: event, body: try columns.value("body"),
            attempt: try columns.value("attempts"), createdAt: try columns.value("created_at"),
            target: url.flatMap { url in secret.map { AppWebhook(url: url, sealedSecret: $0) } })
    }
}

/// Records a batch of webhook outcomes: moves each event the worker still holds, under the claim
/// the outcome came from (`attempts`, as for deliveries: `FinishStatement`), on and writes every
/// try made (also of events whose lease ran out meanwhile).
struct FinishWebhookStatement: PostgresPreparedStatement {
    static let sql = """
        WITH o AS (
            SELECT * FROM json_to_recordset($1::json) AS o (id bigint, verification_id text, app_id text, event text,
                attempt integer, state text, run_at double precision, reason text, url text, http_status integer,
                error text, latency_ms integer)
        ), w AS (
            UPDATE otp.webhook_events t SET state = o.state, run_at = coalesce(to_timestamp(o.run_at), t.run_at),
                locked_until = NULL, locked_by = NULL, last_error = coalesce(o.reason, t.last_error),
                finished_at = CASE WHEN o.state <> 'queued' THEN now() END, updated_at = now()
            FROM o WHERE t.id = o.id AND t.state = 'sending' AND t.locked_by = $2::text AND t.attempts = o.attempt
            RETURNING t.id
        ), a AS (
            INSERT INTO otp.webhook_attempts (webhook_event_id, verification_id, app_id, event, url, http_status, error,
                latency_ms)
            SELECT id, verification_id, app_id, event, url, http_status, error, latency_ms
            FROM o WHERE url IS NOT NULL
        )
        SELECT count(*) FROM w
        """
    typealias Row = Int

    var outcomes: [WebhookOutcome]
    var workerID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(
            String(decoding: try JSONEncoder().encode(outcomes.map(WebhookOutcomeRow.init)), as: UTF8.self))
        bindings.append(workerID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// One outcome as a row of the batch: the shape `json_to_recordset` reads.
private struct WebhookOutcomeRow: Encodable {
    var id: Int64
    var verificationId: String
    var appId: String
    var event: String
    /// The claim this outcome belongs to (the row's `attempts` as that claim set it).
    var attempt: Int
    var state: String
    var runAt: Double?
    var reason: String?
    var url: String?
    var httpStatus: Int?
    var error: String?
    var latencyMs: Int?

    enum CodingKeys: String, CodingKey {
        case id, event, attempt, state, reason, url, error
        case verificationId = "verification_id", appId = "app_id", runAt = "run_at", httpStatus = "http_status"
        case latencyMs = "latency_ms"
    }

    init(_ source: WebhookOutcome) {
        let webhook = source.webhook
        (id, verificationId, appId, event, attempt) = (
            webhook.id, webhook.verificationID, webhook.appID, webhook.event.rawValue, webhook.attempt
        )
        switch source.resolution {
        case .delivered: state = "delivered"
        case .retry(let at, let why): (state, runAt, reason) = ("queued", at.timeIntervalSince1970, why)
        case .failed(let why): (state, reason) = ("failed", why)
        case .canceled(let why): (state, reason) = ("canceled", why)
        }
        if let attempt = source.attempt {
            (url, httpStatus, error, latencyMs) = (
                attempt.url, attempt.httpStatus, attempt.error, attempt.latencyMilliseconds
            )
        }
    }
}
