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

    /// Rolls up the given UTC days (YYYY-MM-DD) into `otp.daily_reports` and
    /// `otp.daily_provider_reports`; returns the rows written.
    package func rollup(days: [String]) async throws -> Int {
        return try await DatabaseFaults.mapping {
            var rows = 0
            for day in days {
                rows += try await count(DailyAggregate.upsert(day: day))
                rows += try await count(ProviderAggregate.upsert(day: day))
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
        /// Apps' webhook events finished (delivered, failed or canceled) long ago.
        package var webhookEvents = 0
        package var webhookAttempts = 0
        /// The weekly partitions of the history tables dropped whole (their rows are counted above).
        package var droppedPartitions: [String] = []

        package init() {}
    }

    /// Makes the weekly partitions of the history tables (`otp.events` and the attempt tables) for
    /// this week and `weeksAhead` weeks after it, and from the week holding `since` when given;
    /// returns how many it made. Idempotent; two hosts at once take turns.
    package func makePartitions(weeksAhead: Int = 8, since: Date? = nil) async throws -> Int {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                "SELECT otp.make_history_partitions(\(weeksAhead)::integer, coalesce(\(since), now()))",
                logger: logger)
            for try await made in rows.decode(Int.self) { return made }
            return 0
        }
    }

    /// Removes what is older than `days`: the history tables' weeks wholly past it by dropping their
    /// partitions (the audit trail's by the retention its owner set), the rows of their default
    /// partitions by row; then finished deliveries and webhook events, and settled verifications
    /// with nothing left pointing at them, in batches, each its own short transaction.
    package func prune(olderThanDays days: Int) async throws -> PruneReport {
        return try await DatabaseFaults.mapping {
            var report = PruneReport()
            try await dropHistoryPartitions(olderThanDays: days, into: &report)
            try await pruneDefaultPartitions(olderThanDays: days, into: &report)
            let age = Double(days) * 86_400
            report.deliveries = try await deleteBatches(
                from: "deliveries", at: "created_at", olderThan: age, where: "x.state NOT IN ('queued', 'sending')")
            report.webhookEvents = try await deleteBatches(
                from: "webhook_events", at: "finished_at", olderThan: age,
                where: "x.state NOT IN ('queued', 'sending')")
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

    /// One partition per call (each call its own transaction, so the lock a drop takes on its table
    /// is held for that drop alone), until none is due.
    private func dropHistoryPartitions(olderThanDays days: Int, into report: inout PruneReport) async throws {
        while true {
            let rows = try await client.query(
                "SELECT history_table, history_partition, removed FROM otp.drop_history_partition(\(days)::integer)",
                logger: logger)
            var dropped = false
            for try await (table, partition, removed) in rows.decode((String, String, Int).self) {
                report.count(removed, in: table)
                report.droppedPartitions.append(partition)
                dropped = true
            }
            if !dropped { return }
        }
    }

    private func pruneDefaultPartitions(olderThanDays days: Int, into report: inout PruneReport) async throws {
        while true {
            var full = false
            let rows = try await client.query(
                "SELECT history_table, removed FROM otp.prune_history_defaults(\(days)::integer, \(batchSize)::integer)",
                logger: logger)
            for try await (table, removed) in rows.decode((String, Int).self) {
                report.count(removed, in: table)
                if removed >= batchSize { full = true }
            }
            if !full { return }
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

extension PostgresMaintenance.PruneReport {
    fileprivate mutating func count(_ removed: Int, in historyTable: String) {
        switch historyTable {
        case "events": events += removed
        case "delivery_attempts": deliveryAttempts += removed
        case "verify_attempts": verifyAttempts += removed
        case "webhook_attempts": webhookAttempts += removed
        default: break
        }
    }
}
