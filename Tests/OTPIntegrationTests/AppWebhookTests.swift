import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import Logging
import OTPCore
import OTPPostgres
import OTPServices
import OTPTesting
import OTPWorker
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Status webhooks to the app, end to end: real sends, verifies, receipts and expiry queue the
/// events in PostgreSQL; the real worker posts them to a receiver that checks every signature.
@Suite struct AppWebhookTests {
    static let fast = WebhookWorker.Configuration(
        concurrency: 16, lease: .seconds(30), pollInterval: .milliseconds(100), requeueInterval: .milliseconds(200),
        schedule: WebhookRetrySchedule(delays: Array(repeating: .milliseconds(200), count: 7)))

    /// Points the test app's webhook at `receiver` and hands the receiver the secret made for it.
    static func pointWebhook(_ world: TestApp, at receiver: FakeAppReceiver) async throws {
        var secret: String?
        let sealer = CodeSealer(keys: world.keys)
        _ = try await world.directory.updatePolicy(appID: world.app.id) { policy in
            secret = try AppWebhook.apply(
                url: receiver.url, rotateSecret: false, to: &policy, appID: world.app.id, sealer: sealer,
                rules: world.services.webhookDestinations.rules)
        }
        receiver.secret = try #require(secret)
    }

    /// Runs the webhook worker in process while `body` runs.
    static func runWebhookWorker(
        _ world: TestApp, configuration: WebhookWorker.Configuration = fast, services: Services? = nil,
        _ body: @Sendable () async throws -> Void
    ) async throws {
        let worker = (services ?? world.services).webhookWorker(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// The events of each verification as they first arrived (a repeat of a `webhook-id` is not new).
    static func typesByVerification(_ events: [FakeAppReceiver.Event]) -> [String: [String]] {
        var seen: Set<String> = []
        var types: [String: [String]] = [:]
        for event in events where seen.insert(event.webhookID).inserted {
            types[event.data["verification_id"] ?? "", default: []].append(event.type)
        }
        return types
    }

    @Test func everyEventArrivesSignedAndInOrderThroughAReceiverRefusingHalfTheFirstTries() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeAppReceiver.run { receiver in
                receiver.failingFirstTries = 0.5
                try await Self.pointWebhook(world, at: receiver)
                // Messages to ...0006 fail for good: its delivery fails.
                let provider = CapturingProvider { message in
                    message.recipient.hasSuffix("0006")
                        ? ProviderResult(outcome: .permanent, httpStatus: 400, errorCode: "21211")
                        : .accepted(messageID: "m-\(message.deliveryID)")
                }
                try await world.test { client in
                    var sent: [String] = []
                    for index in 1...6 {
                        sent.append(
                            try await world.send(
                                client, code: "24680\(index)", recipient: "+55119997700" + String(format: "%02d", index)
                            ))
                    }
                    let ids = sent
                    try await runWorker(world, provider: provider, configuration: PipelineTests.fast) {
                        try await Self.runWebhookWorker(world) {
                            try await waitUntil(seconds: 30) {
                                try await world.scalar(
                                    "SELECT count(*)::int FROM otp.deliveries WHERE state IN ('sent', 'failed')",
                                    as: Int.self) == 6
                            }
                            #expect(try await world.verify(client, ids[0], code: "246801").status == .ok)
                            #expect(try await world.verify(client, ids[1], code: "246802").status == .ok)
                            for _ in 0..<5 { _ = try await world.verify(client, ids[2], code: "000000") }
                            try await world.setExpiry(ids[3], secondsFromNow: -1)
                            _ = try await PostgresMaintenance(client: world.client, logger: quietLogger).expire()
                            let messageID: String = try await world.scalar(
                                "SELECT provider_message_id FROM otp.deliveries WHERE verification_id = \(ids[4])")
                            #expect(
                                try await PostgresReceiptStore(client: world.client, logger: quietLogger).record(
                                    DeliveryReceipt(
                                        provider: "capture", providerMessageID: messageID, outcome: .delivered)))
                            try await waitUntil(seconds: 30) {
                                try await world.scalar(
                                    "SELECT count(*)::int FROM otp.webhook_events WHERE state = 'delivered'",
                                    as: Int.self) == 11
                            }
                        }
                    }

                    let types = Self.typesByVerification(receiver.events)
                    #expect(types[ids[0]] == ["delivery.sent", "verification.verified"])
                    #expect(types[ids[1]] == ["delivery.sent", "verification.verified"])
                    #expect(types[ids[2]] == ["delivery.sent", "verification.locked"])
                    #expect(types[ids[3]] == ["delivery.sent", "verification.expired"])
                    #expect(types[ids[4]] == ["delivery.sent", "delivery.delivered"])
                    #expect(types[ids[5]] == ["delivery.failed"])
                    #expect(receiver.badSignatures == 0)

                    // Half the first tries were refused; each came back under the same webhook-id.
                    let refused = receiver.refusedFirstTries
                    #expect(refused.count == 5)
                    let delivered = Dictionary(receiver.events.map { ($0.webhookID, $0) }) { first, _ in first }
                    for id in refused { #expect((delivered[id]?.tries ?? 0) >= 2, "\(id) arrived again") }

                    let verified = try #require(receiver.events.first { $0.type == "verification.verified" })
                    #expect(verified.data["appid"] == world.app.id)
                    #expect(verified.data["status"] == "verified")
                    #expect(verified.data["channel"] == "sms")
                    #expect(verified.data["delivery_status"] == "sent")
                    #expect(verified.data["provider"] == "capture")
                    let recipient = try #require(verified.data["recipient"])
                    #expect(recipient.hasPrefix("+*********") && recipient.count == 14)
                    #expect(receiver.events.first { $0.type == "delivery.failed" }?.data["error_code"] == "21211")
                    #expect(receiver.events.first { $0.type == "verification.locked" }?.data["attempts"] == "5")

                    // Every try is listed, the refused ones with their status.
                    let page = try await client.get(
                        "/otp/attempts?appid=\(world.app.id)&kind=webhook&limit=100", headers: world.basicAuth)
                    let items = try #require(page.json["items"] as? [[String: Any]])
                    #expect(items.count == receiver.requestCount)
                    #expect(items.filter { $0["http_status"] as? Int == 500 }.count == refused.count)
                    #expect(
                        items.allSatisfy { $0["kind"] as? String == "webhook" && $0["url"] as? String == receiver.url })
                    #expect(Set(items.compactMap { $0["event"] as? String }).count == 6)
                    let unfinished: Int = try await world.scalar(
                        "SELECT count(*)::int FROM otp.webhook_events WHERE state <> 'delivered'")
                    #expect(unfinished == 0)
                }
            }
        }
    }

    /// A name that resolves as the test says: what DNS rebinding looks like to the worker.
    struct ScriptedResolver: HostResolver {
        let answers: [String: [IPAddress]]
        func addresses(of host: String) async -> [IPAddress] { answers[host] ?? [] }
    }

    @Test func aWorkerNeverConnectsToAnAddressTheGuardRefuses() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeAppReceiver.run { receiver in
                // Saved while allowed (or while its name resolved elsewhere): the worker checks again.
                let port = try #require(URLComponents(string: receiver.url)?.port)
                var services = world.services
                services.webhookDestinations = OutboundDestinations(
                    rules: OutboundGuard(allowedNetworks: [IPNetwork("10.99.0.0/16")!]),
                    resolver: ScriptedResolver(answers: ["rebound.example": [IPAddress("127.0.0.1")!]]))
                let strict = services
                let receiverURL = receiver.url
                for url in [receiverURL, "https://rebound.example:\(port)/hooks/otp"] {
                    let sealer = CodeSealer(keys: world.keys)
                    _ = try await world.directory.updatePolicy(appID: world.app.id) { policy in
                        policy.webhook = nil
                        _ = try AppWebhook.apply(
                            url: url, rotateSecret: false, to: &policy, appID: world.app.id, sealer: sealer,
                            rules: OutboundGuard(allowedNetworks: [IPNetwork("127.0.0.0/8")!]))
                        policy.webhook?.url = url
                    }
                    try await world.test { client in
                        let id = try await world.send(client, recipient: "+14155550177")
                        try await world.setExpiry(id, secondsFromNow: -1)
                        _ = try await PostgresMaintenance(client: world.client, logger: quietLogger).expire()
                        try await Self.runWebhookWorker(world, services: strict) {
                            try await waitUntil(seconds: 30) {
                                try await world.scalar(
                                    "SELECT count(*)::int FROM otp.webhook_events WHERE state = 'failed'",
                                    as: Int.self) >= 1 + (url == receiverURL ? 0 : 1)
                            }
                        }
                    }
                }
                #expect(receiver.requestCount == 0, "nothing reached the listener on 127.0.0.1")
                let events: Int = try await world.scalar("SELECT count(*)::int FROM otp.webhook_events")
                let refused: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.webhook_attempts WHERE error = 'destination_refused'")
                let other: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.webhook_attempts WHERE error IS DISTINCT FROM 'destination_refused'")
                #expect(events >= 2 && refused == events && other == 0, "each event tried once, refused, not retried")
                let pending: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.webhook_events WHERE state <> 'failed'")
                #expect(pending == 0)
            }
        }
    }

    @Test func aWorkerKilledWithTriesInFlightLosesNoEvent() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeAppReceiver.run { receiver in
                // Refused without the operator's allowance: exit 1, one line, nothing saved.
                for url in [receiver.url, "https://169.254.169.254/latest/meta-data/", "https://[::ffff:a00:1]/x"] {
                    let refused = try SpawnedProcess.start(
                        ["apps", "update", world.app.id, "--webhook-url", url],
                        environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
                    #expect(await refused.waitForExit(seconds: 60) == 1, "\(refused.log)")
                    #expect(refused.log.contains("--webhook-url: the webhook URL may not point at"), "\(refused.log)")
                }
                let unset: Bool = try await world.scalar(
                    "SELECT webhook_url IS NULL FROM otp.apps WHERE id = \(world.app.id)")
                #expect(unset)
                // Set the way an operator sets it; the secret is printed this once and stored sealed.
                let update = try SpawnedProcess.start(
                    ["apps", "update", world.app.id, "--webhook-url", receiver.url, "--json"],
                    environment: [
                        "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey,
                        "OTP_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                    ])
                #expect(await update.waitForExit(seconds: 60) == 0, "\(update.log)")
                let printed = try JSONSerialization.jsonObject(with: Data(update.log.utf8)) as? [String: Any]
                let secret = try #require(printed?["webhook_secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                #expect((printed?["policy"] as? [String: Any])?["webhook_url"] as? String == receiver.url)
                let stored: String = try await world.scalar(
                    "SELECT webhook_url || encode(webhook_secret, 'escape') FROM otp.apps WHERE id = \(world.app.id)")
                #expect(!stored.contains(secret) && !stored.contains(String(secret.dropFirst(6))))
                receiver.secret = secret
                let numbers = ["+14155550101", "+14155550102", "+14155550103"]
                let sealer = CodeSealer(keys: world.keys)
                _ = try await world.directory.updatePolicy(appID: world.app.id) { policy in
                    try TestNumbers.apply(numbers.map { $0 + "=135790" }, to: &policy, sealer: sealer)
                }
                receiver.hold = .seconds(60)
                try await FakeTwilio.run { twilio in
                    try await world.test { client in
                        for number in numbers { _ = try await world.send(client, recipient: number) }
                        // A worker takes the three delivery.sent events and dies holding them.
                        let doomed = try SpawnedProcess.start(
                            ["work", "--lease", "2"],
                            environment: PipelineTests().processEnvironment(world, twilio: twilio))
                        do {
                            try await waitUntil(seconds: 30) { receiver.requestCount >= 3 }
                        } catch {
                            doomed.stop(SIGKILL)
                            Issue.record("worker log: \(doomed.log)")
                            throw error
                        }
                        doomed.stop(SIGKILL)
                        let inFlight: Int = try await world.scalar(
                            "SELECT count(*)::int FROM otp.webhook_events WHERE state = 'sending'")
                        #expect(inFlight == 3)
                        let held = Set(receiver.arrivals)

                        receiver.hold = nil
                        try await Self.runWebhookWorker(world) {
                            try await waitUntil(seconds: 30) { Set(receiver.events.map(\.webhookID)).count == 3 }
                        }
                        #expect(Set(receiver.events.map(\.webhookID)) == held, "the same webhook-ids, tried again")
                        #expect(
                            receiver.events.allSatisfy { $0.type == "delivery.sent" && $0.data["provider"] == "test" })
                        #expect(receiver.badSignatures == 0)
                    }
                }
            }
        }
    }
}
