import Foundation
import Logging
import PostgresNIO

/// The scheduled jobs' SQL. Each statement is idempotent and takes rows with `SKIP LOCKED` in
/// bounded batches, so two hosts running the same job at once split the work instead of colliding.
public struct PostgresMaintenance: Sendable {
    public struct ExpiryReport: Sendable, Codable, Equatable {
        public var expiredVerifications = 0
        public var deletedIdempotencyKeys = 0
        public var deletedRateLimitCounters = 0
    }

    let client: PostgresClient
    let logger: Logger
    let batchSize: Int

    public init(client: PostgresClient, logger: Logger, batchSize: Int = 1000) {
        self.client = client
        self.logger = logger
        self.batchSize = batchSize
    }

    /// Marks pending verifications past their time `expired`, fails their unsent deliveries, erases
    /// digests and sealed codes, writes one `expired` event each; then sweeps idempotency keys older
    /// than 24 hours and rate-limit counters past their window.
    public func expire() async throws -> ExpiryReport {
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
                SELECT 'expired', app_id, id, 'otp expire', '{}' FROM expired
            )
            SELECT 1 FROM expired
            """)
    }

    private func count(_ query: PostgresQuery) async throws -> Int {
        try await client.query(query, logger: logger).collect().count
    }
}
