import Foundation
import HummingbirdTesting
import Logging
import OTPCore
import OTPPostgres
import OTPTesting
import OTPWorker
import Synchronization
import Testing

/// The delivery worker against the real queue, with in-process providers that fail on command.
@Suite struct WorkerTests {
    static let fastRetries = DeliveryWorker.Configuration(
        concurrency: 16, lease: .seconds(30), pollInterval: .milliseconds(100),
        retry: RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 50))

    @Test func aFlakyProviderLosesNothingAndSendsNothingTwice() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider { message in
                Double.random(in: 0..<1) < 0.4
                    ? ProviderResult(outcome: .retryable, httpStatus: 500, errorCode: "500", errorMessage: "flaky")
                    : .accepted(messageID: "m-\(message.deliveryID)")
            }
            try await world.test { client in
                var ids: [String] = []
                for index in 0..<200 {
                    ids.append(try await world.send(client, recipient: "+551199955\(String(format: "%04d", index))"))
                }
                try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                    try await waitUntil(seconds: 30) {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 200
                    }
                }
                #expect(provider.messages.count == 200, "every verification's message accepted exactly once")
                #expect(Set(provider.messages.map(\.verificationID)) == Set(ids))
                let sent: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.deliveries WHERE app_id = \(world.app.id) AND state = 'sent'")
                #expect(sent == 200)
                let failedAttempts: Int = try await world.scalar(
                    """
                    SELECT count(*)::int FROM otp.delivery_attempts
                    WHERE app_id = \(world.app.id) AND outcome = 'retryable'
                    """)
                #expect(failedAttempts == provider.attempts.count - 200)
                let status = try await world.status(client, ids[0])
                #expect(status.json["delivery_status"] as? String == "sent")
            }
        }
    }

    @Test func aPermanentErrorFailsAtOnceWithTheReason() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider { _ in
                ProviderResult(outcome: .permanent, httpStatus: 400, errorCode: "21211", errorMessage: "invalid To")
            }
            try await world.test { client in
                let id = try await world.send(client)
                try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "failed"
                    }
                }
                #expect(provider.attempts.count == 1)
                let reason: String = try await world.scalar(
                    "SELECT last_error FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(reason == "21211")
                let events: [String] = try await world.scalar(
                    "SELECT array_agg(event ORDER BY id) FROM otp.events WHERE verification_id = \(id)")
                #expect(events.suffix(2) == ["delivery_attempt_failed", "delivery_failed"])
            }
        }
    }

    @Test func nothingIsSentAfterTheCodeExpires() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            // When each call reached the provider: the attempt rows are written after the call ends.
            let calls = CallTimes()
            let provider = CapturingProvider { _ in
                calls.record()
                return ProviderResult(outcome: .retryable, httpStatus: 503, errorCode: "503", retryAfterSeconds: 1)
            }
            try await world.test { client in
                let id = try await world.send(client)
                // Long enough for a loaded machine's worker to reach the provider at least once.
                try await world.setExpiry(id, secondsFromNow: 5)
                try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "failed"
                    }
                }
                let expiresAt: Date = try await world.scalar(
                    "SELECT expires_at FROM otp.verifications WHERE id = \(id)")
                let lastCall = try #require(calls.last)
                #expect(lastCall < expiresAt)
                let reason: String = try await world.scalar(
                    "SELECT last_error FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(reason == "expired")
            }
        }
    }

    @Test func aDeadWorkersDeliveriesAreSentAfterItsLease() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client)
                // A worker claims and then dies without a word: its lease is all that is left.
                let queue = PostgresDeliveryQueue(client: world.client, logger: quietLogger)
                let claimed = try await queue.claim(limit: 1000, lease: .seconds(1), workerID: "doomed")
                #expect(claimed.contains { $0.verificationID == id })
                var configuration = Self.fastRetries
                configuration.requeueInterval = .milliseconds(200)
                try await runWorker(world, provider: provider, configuration: configuration) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "sent"
                    }
                }
                #expect(provider.messages.contains { $0.verificationID == id })
                let attempts: Int = try await world.scalar(
                    "SELECT attempts FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(attempts == 2)
            }
        }
    }

    @Test func twoWorkersNeverSendTheSameDeliveryTwice() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                for index in 0..<150 {
                    _ = try await world.send(client, recipient: "+551199944\(String(format: "%04d", index))")
                }
                try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                    try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                        try await waitUntil(seconds: 20) {
                            try await world.scalar(
                                "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 150
                        }
                    }
                }
                let mine = provider.messages.filter { message in message.recipient.hasPrefix("+551199944") }
                #expect(mine.count == 150)
                #expect(Set(mine.map(\.deliveryID)).count == 150)
            }
        }
    }

    @Test func aSettledVerificationsDeliveryIsDropped() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client, code: "424242")
                _ = try await world.verify(client, id, code: "424242")
                try await runWorker(world, provider: provider, configuration: Self.fastRetries) {
                    try await Task.sleep(for: .milliseconds(500))
                }
                #expect(!provider.attempts.contains { $0.verificationID == id })
                let state: String = try await world.scalar(
                    "SELECT state FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(state == "canceled")
            }
        }
    }

    @Test func whatsAppFailingForGoodFallsBackToSMSWithTheSameCode() async throws {
        try await TestApp.with(ownDatabase: true, configure: { $0.fallbackChannels = [.sms] }) { world in
            let whatsapp = CapturingProvider(name: "wa") { _ in
                ProviderResult(outcome: .permanent, httpStatus: 400, errorCode: "131026", errorMessage: "undeliverable")
            }
            let sms = CapturingProvider(name: "sms")
            try await world.test { client in
                let id = try await world.send(client, code: "636363", extra: ["channel": "whatsapp"])
                let routes = ProviderChains([.whatsapp: [whatsapp], .sms: [sms]])
                try await runWorker(world, chains: routes, configuration: Self.fastRetries) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "sent"
                    }
                }
                #expect(whatsapp.attempts.count == 1)
                #expect(sms.messages.map(\.code) == ["636363"])
                let status = try await world.status(client, id)
                #expect(status.json["channel"] as? String == "sms")
                let states: [String] = try await world.scalar(
                    "SELECT array_agg(channel || ':' || state ORDER BY id) FROM otp.deliveries WHERE verification_id = \(id)"
                )
                #expect(states == ["whatsapp:failed", "sms:sent"])
                #expect(try await world.verify(client, id, code: "636363").status == .ok)
            }
        }
    }

    @Test func aVendorGivingEveryMessageTheSameIDStillGetsEachMessageOnce() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider { _ in .accepted(messageID: "queued") }
            try await world.test { client in
                for index in 0..<5 {
                    _ = try await world.send(client, recipient: "+551199977\(String(format: "%04d", index))")
                }
                // A lease a loaded machine cannot outlast by just recording an outcome slowly.
                var configuration = Self.fastRetries
                configuration.lease = .seconds(3)
                configuration.requeueInterval = .milliseconds(200)
                try await runWorker(world, provider: provider, configuration: configuration) {
                    try await waitUntil {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 5
                    }
                    // Longer than a lease: a delivery whose outcome failed to record would be sent again.
                    try await Task.sleep(for: .milliseconds(3500))
                }
                #expect(provider.attempts.count == 5)
            }
        }
    }
}

/// When each call to a provider was made.
final class CallTimes: Sendable {
    private let times = Mutex<[Date]>([])
    func record() { times.withLock { $0.append(Date()) } }
    var last: Date? { times.withLock { $0.max() } }
}
