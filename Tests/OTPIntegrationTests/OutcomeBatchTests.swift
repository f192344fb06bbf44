import Foundation
import OTPCore
import OTPPostgres
import OTPTesting
import Synchronization
import Testing

@testable import OTPWorker

/// Outcomes are recorded many to a statement: each kind lands as it would alone.
@Suite struct OutcomeBatchTests {
    @Test func oneStatementRecordsEveryKindOfOutcome() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                var ids: [String] = []
                for index in 0..<6 {
                    ids.append(try await world.send(client, recipient: "+551199977700\(index)"))
                }
                let queue = PostgresDeliveryQueue(client: world.client, logger: quietLogger)
                let claimed = try await queue.claim(limit: 6, lease: .seconds(30), workerID: "w")
                #expect(claimed.count == 6)
                let delivery = Dictionary(uniqueKeysWithValues: claimed.map { ($0.verificationID, $0) })
                func attempt(_ outcome: ProviderResult.Outcome, status: Int) -> DeliveryAttempt {
                    DeliveryAttempt(
                        provider: "p",
                        result: ProviderResult(outcome: outcome, httpStatus: status, errorCode: "\(status)"),
                        latencyMilliseconds: 7)
                }
                // The sixth was taken over by another worker after this one's lease ran out.
                _ = try await world.client.query(
                    "UPDATE otp.deliveries SET locked_by = 'other' WHERE verification_id = \(ids[5])",
                    logger: quietLogger)
                let retryAt = Date().addingTimeInterval(60)
                try await queue.finish(
                    [
                        DeliveryOutcome(
                            delivery: delivery[ids[0]]!, attempt: attempt(.accepted, status: 201),
                            resolution: .sent(provider: "p", messageID: "m-0")),
                        DeliveryOutcome(
                            delivery: delivery[ids[1]]!, attempt: attempt(.retryable, status: 503),
                            resolution: .retry(at: retryAt, reason: "503")),
                        DeliveryOutcome(
                            delivery: delivery[ids[2]]!, attempt: attempt(.permanent, status: 400),
                            resolution: .failed(reason: "400")),
                        DeliveryOutcome(
                            delivery: delivery[ids[3]]!, attempt: attempt(.permanent, status: 400),
                            resolution: .fallback(reason: "400", channel: .whatsapp)),
                        DeliveryOutcome(
                            delivery: delivery[ids[4]]!, attempt: nil,
                            resolution: .canceled(reason: "verification no longer pending")),
                        DeliveryOutcome(
                            delivery: delivery[ids[5]]!, attempt: attempt(.accepted, status: 201),
                            resolution: .sent(provider: "p", messageID: "m-5")),
                    ], workerID: "w")

                func states(_ id: String) async throws -> [String] {
                    try await world.scalar(
                        "SELECT array_agg(state || '/' || channel ORDER BY id) FROM otp.deliveries WHERE verification_id = \(id)"
                    )
                }
                #expect(try await states(ids[0]) == ["sent/sms"])
                #expect(try await states(ids[1]) == ["queued/sms"])
                #expect(try await states(ids[2]) == ["failed/sms"])
                #expect(try await states(ids[3]) == ["failed/sms", "queued/whatsapp"])
                #expect(try await states(ids[4]) == ["canceled/sms"])
                #expect(try await states(ids[5]) == ["sending/sms"], "a delivery held by another worker is left to it")

                let retryRunAt: Date = try await world.scalar(
                    "SELECT run_at FROM otp.deliveries WHERE verification_id = \(ids[1])")
                #expect(abs(retryRunAt.timeIntervalSince(retryAt)) < 0.01)
                let sealedCodes: [Bool] = try await world.scalar(
                    "SELECT array_agg(sealed_code IS NOT NULL ORDER BY id) FROM otp.deliveries WHERE verification_id = \(ids[3])"
                )
                #expect(
                    sealedCodes == [false, true], "the code moves to the fallback delivery and leaves the failed one")
                let channel: String = try await world.scalar(
                    "SELECT channel FROM otp.verifications WHERE id = \(ids[3])")
                #expect(channel == "whatsapp")
                let fallbackFrom: Int64 = try await world.scalar(
                    """
                    SELECT (details->>'fallback_from')::bigint FROM otp.events
                    WHERE verification_id = \(ids[3]) AND event = 'delivery_queued' AND details ? 'fallback_from'
                    """)
                #expect(fallbackFrom == delivery[ids[3]]!.id)

                func events(_ id: String) async throws -> [String] {
                    try await world.scalar(
                        """
                        SELECT coalesce(array_agg(event ORDER BY id), '{}') FROM otp.events
                        WHERE verification_id = \(id) AND event NOT IN ('send_requested', 'delivery_queued')
                        """)
                }
                #expect(try await events(ids[0]) == ["delivery_sent"])
                #expect(try await events(ids[1]) == ["delivery_attempt_failed"])
                #expect(try await events(ids[2]) == ["delivery_attempt_failed", "delivery_failed"])
                #expect(try await events(ids[3]) == ["delivery_attempt_failed", "delivery_failed"])
                #expect(try await events(ids[4]) == [])
                #expect(try await events(ids[5]) == [])

                let attempts: [String] = try await world.scalar(
                    """
                    SELECT array_agg(verification_id || '/' || outcome || '/' || http_status ORDER BY delivery_id)
                    FROM otp.delivery_attempts
                    """)
                #expect(
                    attempts == [
                        "\(ids[0])/accepted/201", "\(ids[1])/retryable/503", "\(ids[2])/permanent/400",
                        "\(ids[3])/permanent/400", "\(ids[5])/accepted/201",
                    ], "every provider call is recorded, even one whose delivery moved on")
            }
        }
    }

    @Test func anOutcomeTheDatabaseRefusesDoesNotHoldBackItsBatch() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let first = try await world.send(client, recipient: "+5511999776001")
                let second = try await world.send(client, recipient: "+5511999776002")
                let queue = PostgresDeliveryQueue(client: world.client, logger: quietLogger)
                let worker = DeliveryWorker(
                    queue: queue, chains: ProviderChains([:]), sealer: CodeSealer(keys: world.keys),
                    configuration: DeliveryWorker.Configuration(workerID: "w"), logger: quietLogger)
                let claimed = try await queue.claim(limit: 2, lease: .seconds(30), workerID: "w")
                #expect(claimed.count == 2)
                // An attempt of a delivery that does not exist breaks its row's foreign key.
                var missing = claimed[0]
                missing.id = -1
                let sent = DeliveryAttempt(
                    provider: "p", result: .accepted(messageID: "m"), latencyMilliseconds: 1)
                await worker.jobs.record(
                    ([claimed[0], missing, claimed[1]]).map {
                        DeliveryOutcome(delivery: $0, attempt: sent, resolution: .sent(provider: "p", messageID: "m"))
                    })
                for id in [first, second] {
                    let state: String = try await world.scalar(
                        "SELECT state FROM otp.deliveries WHERE verification_id = \(id)")
                    #expect(state == "sent")
                }
            }
        }
    }

    @Test func outcomesThatArriveDuringAWriteShareTheNextOne() async throws {
        let batcher = OutcomeBatcher<DeliveryOutcome>(maximumBatch: 3)
        let batches = Shared<[[Int64]]>([])
        let (firstWriteStarted, started) = AsyncStream.makeStream(of: Void.self)
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await batcher.run { batch in
                    let isFirst = batches.value.withLock { batches in
                        batches.append(batch.map(\.delivery.id))
                        return batches.count == 1
                    }
                    if isFirst {
                        started.yield()
                        for await _ in gate { break }
                    }
                }
            }
            group.addTask { await batcher.record(Self.outcome(1)) }
            for await _ in firstWriteStarted { break }
            // Five more finish while the first is being written.
            for id in Int64(2)...6 { group.addTask { await batcher.record(Self.outcome(id)) } }
            try await waitUntil { batcher.waitingCount == 5 }
            open.yield()
            try await waitUntil { batches.value.withLock { $0.count } == 3 }
            batcher.close()
            try await group.waitForAll()
        }
        let sizes = batches.value.withLock { $0.map(\.count) }
        #expect(sizes == [1, 3, 2], "one alone, then the five that waited, at most three to a statement")
        #expect(Set(batches.value.withLock { $0.flatMap { $0 } }) == Set(1...6))
        await batcher.record(Self.outcome(7))
        #expect(batches.value.withLock { $0.count } == 3, "after close nothing more is written")
    }

    /// A value the test's tasks share.
    final class Shared<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
    }

    static func outcome(_ id: Int64) -> DeliveryOutcome {
        DeliveryOutcome(
            delivery: ClaimedDelivery(
                id: id, verificationID: "otp_\(id)", appID: "app", appName: "App", channel: .sms, recipient: "+1",
                sender: nil, sealedCode: nil, attempt: 1, expiresAt: Date(), verificationPending: true,
                claimedAt: Date()),
            attempt: nil, resolution: .canceled(reason: "test"))
    }
}
