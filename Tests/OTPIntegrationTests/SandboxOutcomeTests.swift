import Foundation
import HummingbirdTesting
import OTPCore
import OTPTesting
import OTPWorker
import Testing

/// Test numbers with scripted outcomes (`+E164=CODE:OUTCOME`): each runs through the real worker,
/// retry policy, fallback and receipt store, and no provider is called.
@Suite struct SandboxOutcomeTests {
    static let delivered = "+14155550201"
    static let undelivered = "+14155550202"
    static let delayed = "+14155550203"
    static let providerDown = "+14155550204"
    static let noWhatsApp = "+14155550205"

    @Test func eachScriptedOutcomeRunsThroughThePipeline() async throws {
        // A database of its own: the worker here would claim other suites' deliveries.
        try await TestApp.with(ownDatabase: true) { world in
            let update = try SpawnedProcess.start(
                [
                    "apps", "update", world.app.id, "--channels", "sms,whatsapp", "--fallback-channel", "sms",
                    "--test-number", "\(Self.delivered)=111111:delivered",
                    "--test-number", "\(Self.undelivered)=222222:undelivered",
                    "--test-number", "\(Self.delayed)=333333:delayed:2",
                    "--test-number", "\(Self.providerDown)=444444:provider_down",
                    "--test-number", "\(Self.noWhatsApp)=555555:no_whatsapp", "--json",
                ],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            #expect(await update.waitForExit(seconds: 60) == 0, "\(update.log)")
            #expect(update.log.contains(#""\#(Self.delayed)":"delayed:2""#), "\(update.log)")

            let provider = CapturingProvider()
            // Two tries, a few milliseconds apart, before a try counts as the last one.
            let quickRetries = DeliveryWorker.Configuration(
                pollInterval: .milliseconds(50), retry: RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 2))
            try await world.test { client in
                var ids: [String: String] = [:]
                for number in [Self.delivered, Self.undelivered, Self.delayed, Self.providerDown] {
                    ids[number] = try await world.send(client, recipient: number)
                }
                ids[Self.noWhatsApp] = try await world.send(
                    client, recipient: Self.noWhatsApp, extra: ["channel": "whatsapp"])
                try await runWorker(world, provider: provider, configuration: quickRetries) {
                    try await waitUntil(seconds: 30) {
                        let finished: Int = try await world.scalar(
                            """
                            SELECT count(*)::bigint FROM otp.deliveries
                            WHERE app_id = \(world.app.id) AND state IN ('delivered', 'failed')
                            """)
                        return finished == 6
                    }
                }
                #expect(provider.attempts.isEmpty, "no provider is called for test numbers")
                let providers: [String] = try await world.rows(
                    "SELECT DISTINCT provider FROM otp.delivery_attempts WHERE app_id = \(world.app.id)")
                #expect(providers == [TestOutcome.provider])

                func deliveries(_ number: String) async throws -> [String] {
                    let id = try #require(ids[number])
                    return try await world.rows(
                        """
                        SELECT channel || ' ' || state || coalesce(' ' || last_error, '')
                        FROM otp.deliveries WHERE verification_id = \(id) ORDER BY id
                        """)
                }
                #expect(try await deliveries(Self.delivered) == ["sms delivered"])
                #expect(try await deliveries(Self.undelivered) == ["sms failed sandbox_undelivered"])
                #expect(try await deliveries(Self.delayed) == ["sms delivered"])
                #expect(try await deliveries(Self.providerDown) == ["sms failed retries exhausted"])
                #expect(
                    try await deliveries(Self.noWhatsApp) == [
                        "whatsapp failed sandbox_no_whatsapp", "sms delivered",
                    ])

                // The receipts are the receipt store's: the same events as a vendor's.
                let undeliveredID = try #require(ids[Self.undelivered])
                let events: [String] = try await world.rows(
                    "SELECT event FROM otp.events WHERE verification_id = \(undeliveredID) ORDER BY id")
                #expect(events == ["send_requested", "delivery_queued", "delivery_sent", "delivery_failed"])
                // The delayed receipt came no sooner than its script says.
                let delayedID = try #require(ids[Self.delayed])
                let wait: Double = try await world.scalar(
                    """
                    SELECT extract(epoch FROM e.at - d.sent_at)::float8
                    FROM otp.events e JOIN otp.deliveries d ON d.verification_id = e.verification_id
                    WHERE e.verification_id = \(delayedID) AND e.event = 'delivery_delivered'
                    """)
                #expect(wait >= 2, "delivered \(wait) s after it was sent")
                // The outage was tried as any outage is: twice, both retryable.
                let downID = try #require(ids[Self.providerDown])
                let tries: [String] = try await world.rows(
                    "SELECT outcome FROM otp.delivery_attempts WHERE verification_id = \(downID) ORDER BY id")
                #expect(tries == ["retryable", "retryable"])
                // Each code still verifies as any other.
                #expect(try await world.verify(client, undeliveredID, code: "222222").json["verified"] as? Bool == true)
            }
        }
    }

    @Test func outcomesAreCheckedAndForgottenWithTheirNumber() throws {
        let sealer = CodeSealer(keys: try ServerKeys(base64: ServerKeys.generateSecret()))
        var policy = AppPolicy.default
        try TestNumbers.apply(["\(Self.delayed)=123456:delayed:30"], to: &policy, sealer: sealer)
        #expect(policy.testOutcomes[Self.delayed] == .delayed(seconds: 30))
        #expect(try TestNumbers.code(for: Self.delayed, policy: policy, sealer: sealer) == "123456")
        try TestNumbers.apply(["\(Self.delayed)=123456"], to: &policy, sealer: sealer)
        #expect(policy.testOutcomes[Self.delayed] == nil, "a number set again without an outcome is plainly sent")
        try TestNumbers.apply(["\(Self.delayed)=123456:no_whatsapp"], to: &policy, sealer: sealer)
        try TestNumbers.apply(["\(Self.delayed)="], to: &policy, sealer: sealer)
        #expect(policy.testOutcomes.isEmpty && policy.testNumbers.isEmpty)
        for bad in ["123456:lost", "123456:delayed", "123456:delayed:0", "123456:delayed:3601", "123456:"] {
            #expect(throws: PolicyProblem.self, "\(bad)") {
                try TestNumbers.apply(["\(Self.delayed)=\(bad)"], to: &policy, sealer: sealer)
            }
        }
    }
}
