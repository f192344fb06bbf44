import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The delivery queue on `otp.deliveries`: claims through the partial index of queued rows with
/// `FOR UPDATE SKIP LOCKED`, commits before any provider is called, and records outcomes in batches,
/// one statement each.
package struct PostgresDeliveryQueue: JobQueue {
    package static let channel = "otp_deliveries"
    package let kind = "delivery"

    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func claim(limit: Int, lease: Duration, workerID: String) async throws -> [ClaimedDelivery] {
        return try await DatabaseFaults.mapping {
            let statement = ClaimStatement(
                limit: limit, leaseSeconds: Int(lease.components.seconds), workerID: workerID)
            var claimed: [ClaimedDelivery] = []
            for try await delivery in try await client.execute(statement, logger: logger) { claimed.append(delivery) }
            return claimed.sorted { $0.id < $1.id }
        }
    }

    package func finish(_ outcomes: [DeliveryOutcome], workerID: String) async throws {
        try await DatabaseFaults.mapping {
            guard !outcomes.isEmpty else { return }
            var handedOver = 0
            for try await count in try await client.execute(
                FinishStatement(outcomes: outcomes, workerID: workerID), logger: logger)
            {
                handedOver = count
            }
            if handedOver > 0 { try await client.query("SELECT pg_notify(\(Self.channel), '')", logger: logger) }
        }
    }

    package func requeueExpiredLeases() async throws -> Int {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                UPDATE otp.deliveries SET state = 'queued', locked_until = NULL, locked_by = NULL, run_at = now(),
                    updated_at = now()
                WHERE state = 'sending' AND locked_until < now()
                RETURNING id
                """, logger: logger)
            return try await rows.collect().count
        }
    }

    package func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double) {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT count(*)::bigint,
                    coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
                FROM otp.deliveries WHERE state = 'queued'
                """, logger: logger)
            for try await (count, age) in rows.decode((Int, Double).self) { return (count, age) }
            return (0, 0)
        }
    }

    package func listenForWork(_ wake: @Sendable () -> Void) async throws {
        try await DatabaseFaults.mapping {
            try await client.withConnection { connection in
                try await connection.listen(on: Self.channel) { notifications in
                    for try await _ in notifications { wake() }
                }
            }
        }
    }
}
