import Foundation
import HummingbirdTesting
import OTPCore
import OTPTesting
import OTPWorker
import PostgresNIO
import Testing

/// A verification's events commit in the order their ids were drawn, so that its status webhooks,
/// which go out in id order, go out in the order they were committed too: a worker's outcome waits
/// for a verify that holds the verification (the chaos soak saw a `delivery.sent` go out before the
/// `verification.verified` that drew a smaller id).
@Suite struct EventOrderTests {
    @Test func aWorkersOutcomeWaitsForAVerifyHoldingItsVerification() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client)
                let held = StopFlag()
                let release = StopFlag()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // What a verify batch does first: lock the verification's row.
                        try await world.client.withTransaction(logger: quietLogger) { connection in
                            _ = try await connection.query(
                                "SELECT id FROM otp.verifications WHERE id = \(id) FOR UPDATE", logger: quietLogger
                            ).collect()
                            held.set()
                            try await waitUntil(seconds: 60) { release.isSet }
                        }
                    }
                    try await waitUntil(seconds: 10) { held.isSet }
                    let quick = DeliveryWorker.Configuration(pollInterval: .milliseconds(50))
                    try await runWorker(world, provider: provider, configuration: quick) {
                        try await waitUntil(seconds: 30) { provider.messages.count == 1 }
                        try await Task.sleep(for: .milliseconds(500))
                        let during: String = try await world.scalar(
                            "SELECT state FROM otp.deliveries WHERE verification_id = \(id)")
                        #expect(during == "sending", "the outcome was recorded while the verify held the row")
                        release.set()
                        try await waitUntil(seconds: 30) {
                            let state: String = try await world.scalar(
                                "SELECT state FROM otp.deliveries WHERE verification_id = \(id)")
                            return state == "sent"
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }
}
