import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The scheduled jobs' SQL. Each statement is idempotent and takes rows with `SKIP LOCKED` in
/// bounded batches, so two hosts running the same job at once split the work instead of colliding.
package struct PostgresMaintenance: Sendable {
    package struct ExpiryReport: Sendable, Codable, Equatable {
        package var expiredVerifications = 0
        package var deletedIdempotencyKeys = 0
        package var deletedRateLimitCounters = 0
    }

    let client: PostgresClient
    let logger: Logger
    let batchSize: Int

    package init(client: PostgresClient, logger: Logger, batchSize: Int = 1000) {
        self.client = client
        self.logger = logger
        self.batchSize = batchSize
    }

    /// Marks pending verifications past their time `expired`, fails their unsent deliveries, erases
    /// digests and sealed codes, writes one `expired` event each; then sweeps idempotency keys older
    /// than 24 hours and rate-limit counters past their window.
    package func expire() async throws -> ExpiryReport {
        return try await DatabaseFaults.mapping {
            var report = ExpiryReport()
            while true {
                let count = try await expireBatch()
                report.expiredVerifications += count
                if count < batchSize { break }
            }
            report.deletedIdempotencyKeys = try await count(
                """
                DELETE FROM otp.idempotency_keys WHERE ctid IN (
                    SELECT ctid FROM otp.idempotency_keys WHERE created_at < now() - interval '24 hours'
                    LIMIT \(batchSize * 10) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """)
            report.deletedRateLimitCounters = try await count(
                """
                DELETE FROM otp.rate_limit_counters WHERE ctid IN (
                    SELECT ctid FROM otp.rate_limit_counters WHERE expires_at < now()
                    LIMIT \(batchSize * 10) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """)
            return report
        }
    }

    private func expireBatch() async throws -> Int {
        try await count(
            """
            WITH expired AS (
                UPDATE otp.verifications SET status = 'expired', code_digest = NULL, sealed_code = NULL,
                    updated_at = now()
                WHERE id IN (
                    SELECT id FROM otp.verifications WHERE status = 'pending' AND expires_at <= now()
                    ORDER BY expires_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                RETURNING id, app_id
            ), unsent AS (
                UPDATE otp.deliveries d SET state = 'failed', last_error = 'expired', sealed_code = NULL,
                    finished_at = now(), updated_at = now()
                FROM expired e WHERE d.verification_id = e.id AND d.state = 'queued'
                RETURNING d.id
            ), events AS (
                INSERT INTO otp.events (event, app_id, verification_id, actor, details)
                SELECT \(EventKind.expired.rawValue), app_id, id, 'otp expire', '{}' FROM expired
            )
            SELECT 1 FROM expired
            """)
    }

    private func count(_ query: PostgresQuery) async throws -> Int {
        try await client.query(query, logger: logger).collect().count
    }

    /// Rolls up the given UTC days (YYYY-MM-DD) into `otp.daily_reports`; returns the rows written.
    package func rollup(days: [String]) async throws -> Int {
        return try await DatabaseFaults.mapping {
            var rows = 0
            for day in days {
                rows += try await count(DailyAggregate.upsert(day: day))
            }
            return rows
        }
    }

    package struct PruneReport: Sendable, Codable, Equatable {
        package var deliveryAttempts = 0
        package var verifyAttempts = 0
        package var deliveries = 0
        package var events = 0
        package var verifications = 0
        /// Dashboard sessions past their idle timeout (they no longer sign anyone in).
        package var sessions = 0
        /// Apps' webhook events finished (delivered, failed or canceled) long ago, with their tries.
        package var webhookEvents = 0
    }

    /// Deletes what is older than `days`: finished deliveries and webhook events, attempts, audit events, and settled
    /// verifications with nothing left pointing at them. In batches, each its own short transaction.
    package func prune(olderThanDays days: Int) async throws -> PruneReport {
        return try await DatabaseFaults.mapping {
            var report = PruneReport()
            let age = Double(days) * 86_400
            report.deliveryAttempts = try await deleteBatches(from: "delivery_attempts", at: "at", olderThan: age)
            report.verifyAttempts = try await deleteBatches(from: "verify_attempts", at: "at", olderThan: age)
            report.deliveries = try await deleteBatches(
                from: "deliveries", at: "created_at", olderThan: age, where: "x.state NOT IN ('queued', 'sending')")
            report.webhookEvents = try await deleteBatches(
                from: "webhook_events", at: "finished_at", olderThan: age,
                where: "x.state NOT IN ('queued', 'sending')")
            // The trail keeps what its owner set (otp.audit_policy); only its own function may delete.
            report.events = try await repeatBatches(
                "SELECT 1 FROM generate_series(1, otp.prune_events(\(batchSize)::integer))")
            report.verifications = try await deleteBatches(
                from: "verifications", at: "created_at", olderThan: age,
                where: """
                    x.status <> 'pending'
                        AND NOT EXISTS (SELECT 1 FROM otp.deliveries d WHERE d.verification_id = x.id)
                        AND NOT EXISTS (SELECT 1 FROM otp.verify_attempts a WHERE a.verification_id = x.id)
                    """)
            report.sessions = try await repeatBatches(
                """
                DELETE FROM otp.dashboard_sessions WHERE token_digest IN (
                    SELECT token_digest FROM otp.dashboard_sessions
                    WHERE last_used_at < now() - make_interval(secs => \(Double(LoginRules.idleTimeoutSeconds)))
                    LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """)
            return report
        }
    }

    /// Deletes, a batch at a time, the rows of `otp.<table>` (alias `x` in `condition`) whose `column`
    /// is more than `seconds` old and that `condition` lets go.
    private func deleteBatches(
        from table: String, at column: String, olderThan seconds: Double, where condition: String = "true"
    ) async throws -> Int {
        try await repeatBatches(
            """
            DELETE FROM otp.\(unescaped: table) WHERE id IN (
                SELECT id FROM otp.\(unescaped: table) x
                WHERE x.\(unescaped: column) < now() - make_interval(secs => \(seconds)) AND \(unescaped: condition)
                LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """)
    }

    /// Runs a batch statement until it touches fewer rows than a batch.
    private func repeatBatches(_ query: PostgresQuery) async throws -> Int {
        var total = 0
        while true {
            let touched = try await count(query)
            total += touched
            if touched < batchSize { return total }
        }
    }
}
