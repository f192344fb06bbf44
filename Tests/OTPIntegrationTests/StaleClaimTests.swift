import Foundation
import OTPCore
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// A worker paused past its lease can claim the same job again once it resumes (the job was put
/// back in the queue meanwhile), while its first claim's call is still finishing: the first
/// claim's outcome is then stale, and must not be recorded over the second's.
@Suite struct StaleClaimTests {
    @Test func aDeliverysOlderClaimCannotRecordOverItsNewerClaimBySameWorker() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let id = try await world.send(client, recipient: "+5511999776001")
                let queue = PostgresDeliveryQueue(client: world.client, logger: quietLogger)
                let first = try #require(try await queue.claim(limit: 1, lease: .seconds(30), workerID: "w").first)
                try await expireLeases(world, table: "deliveries")
                #expect(try await queue.requeueExpiredLeases() == 1)
                let second = try #require(try await queue.claim(limit: 1, lease: .seconds(30), workerID: "w").first)
                #expect(second.id == first.id)
                #expect(second.attempt == first.attempt + 1)

                let accepted = DeliveryAttempt(
                    provider: "p", result: .accepted(messageID: "old", httpStatus: 200), latencyMilliseconds: 5)
                try await queue.finish(
                    [
                        DeliveryOutcome(
                            delivery: first, attempt: accepted, resolution: .sent(provider: "p", messageID: "old"))
                    ],
                    workerID: "w")
                let afterStale: String = try await world.scalar(
                    "SELECT state FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(afterStale == "sending", "the older claim's outcome is not recorded")

                let retryAt = Date().addingTimeInterval(60)
                try await queue.finish(
                    [DeliveryOutcome(delivery: second, attempt: nil, resolution: .retry(at: retryAt, reason: "503"))],
                    workerID: "w")
                let state: String = try await world.scalar(
                    "SELECT state || '/' || coalesce(provider_message_id, '-') FROM otp.deliveries WHERE verification_id = \(id)"
                )
                #expect(state == "queued/-", "the newer claim's outcome is")
            }
        }
    }

    @Test func aWebhooksOlderClaimCannotRecordOverItsNewerClaimBySameWorker() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let id = try await world.send(client, recipient: "+5511999776002")
                _ = try await world.client.query(
                    """
                    INSERT INTO otp.webhook_events (app_id, verification_id, type, body)
                    VALUES (\(world.app.id), \(id), 'delivery.sent', '{}')
                    """, logger: quietLogger)
                let queue = PostgresWebhookQueue(client: world.client, logger: quietLogger)
                let first = try #require(try await queue.claim(limit: 1, lease: .seconds(30), workerID: "w").first)
                try await expireLeases(world, table: "webhook_events")
                #expect(try await queue.requeueExpiredLeases() == 1)
                let second = try #require(try await queue.claim(limit: 1, lease: .seconds(30), workerID: "w").first)
                #expect(second.webhookID == first.webhookID)

                try await queue.finish(
                    [WebhookOutcome(webhook: first, attempt: nil, resolution: .delivered)], workerID: "w")
                let afterStale: String = try await world.scalar(
                    "SELECT state FROM otp.webhook_events WHERE verification_id = \(id)")
                #expect(afterStale == "sending", "the older claim's outcome is not recorded")

                try await queue.finish(
                    [WebhookOutcome(webhook: second, attempt: nil, resolution: .failed(reason: "http_410"))],
                    workerID: "w")
                let state: String = try await world.scalar(
                    "SELECT state FROM otp.webhook_events WHERE verification_id = \(id)")
                #expect(state == "failed", "the newer claim's outcome is")
            }
        }
    }

    /// Every lease on `table` ran out, as when its worker was paused for longer than the lease.
    private func expireLeases(_ world: TestApp, table: String) async throws {
        _ = try await world.client.query(
            PostgresQuery(
                unsafeSQL: "UPDATE otp.\(table) SET locked_until = now() - interval '1 second' WHERE state = 'sending'"),
            logger: quietLogger)
    }
}
