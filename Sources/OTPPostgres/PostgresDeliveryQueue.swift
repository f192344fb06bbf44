import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The delivery queue on `otp.deliveries`: claims through the partial index of queued rows with
/// `FOR UPDATE SKIP LOCKED`, commits before any provider is called, and records outcomes in batches,
/// one statement each.
package struct PostgresDeliveryQueue: QueueOnJobTable {
    package static let channel = "otp_deliveries"
    package let kind = "delivery"

    let client: PostgresClient
    let logger: Logger
    let jobs: JobTable

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.jobs = JobTable(table: "deliveries", channel: Self.channel, client: client, logger: logger)
    }

    package func claim(limit: Int, lease: Duration, workerID: String) async throws -> [ClaimedDelivery] {
        try await jobs.claim(
            ClaimStatement(limit: limit, leaseSeconds: Int(lease.components.seconds), workerID: workerID), id: \.id)
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
            if handedOver > 0 { try await jobs.wakeWorkers() }
        }
    }
}
