import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OTPCore
import OTPProviders
import OTPTesting
import OTPWorker
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The delivery pipeline end to end: the real worker (in process or as `otp work` processes), real
/// providers, and fake vendors on 127.0.0.1 that fail on command.
@Suite struct PipelineTests {
    static let fast = DeliveryWorker.Configuration(
        concurrency: 64, lease: .seconds(30), pollInterval: .milliseconds(100), requeueInterval: .milliseconds(200),
        retry: RetryPolicy(baseDelay: 0.01, maxDelay: 0.1, maxAttempts: 100))

    func sendMany(_ world: TestApp, _ client: some TestClientProtocol, count: Int, prefix: String) async throws
        -> [String]
    {
        var ids: [String] = []
        for index in 0..<count {
            ids.append(try await world.send(client, recipient: prefix + String(format: "%04d", index)))
        }
        return ids
    }

    func processEnvironment(_ world: TestApp, twilio: FakeTwilio) -> [String: String] {
        [
            "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey, "OTP_SMS_PROVIDERS": "twilio",
            "TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken,
            "TWILIO_FROM": "+15005550006", "TWILIO_BASE_URL": twilio.baseURL, "OTP_LOG_LEVEL": "warning",
            "OTP_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        ]
    }

    @Test func aThousandSendsThroughATwilioFailing40PercentAllArriveOnce() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    twilio.behaviour = .failRandomly(fraction: 0.4)
                    let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                    try await world.test { client in
                        let ids = try await sendMany(world, client, count: 1000, prefix: "+551199930")
                        try await runWorker(world, provider: provider, configuration: Self.fast) {
                            try await waitUntil(seconds: 120) {
                                try await world.scalar(
                                    "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self)
                                    == 1000
                            }
                        }
                        #expect(twilio.messages.count == 1000)
                        #expect(Set(twilio.messages.map(\.to)).count == 1000)
                        #expect(twilio.requestCount > 1000, "the fake did fail some calls")
                        let sent: Int = try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'")
                        #expect(sent == ids.count)
                        let accepted: Int = try await world.scalar(
                            "SELECT count(*)::int FROM otp.delivery_attempts WHERE outcome = 'accepted'")
                        #expect(accepted == 1000)
                    }
                }
            }
        }
    }

    @Test func aKilledWorkersDeliveriesAreSentByAnotherAfterTheLease() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    twilio.behaviour = .hang(seconds: 20)
                    try await world.test { client in
                        let ids = try await sendMany(world, client, count: 5, prefix: "+551199940")
                        let doomed = try SpawnedProcess.start(
                            ["work", "--lease", "2"], environment: processEnvironment(world, twilio: twilio))
                        do {
                            try await waitUntil(seconds: 30) { twilio.requestCount >= 5 }
                        } catch {
                            doomed.stop(SIGKILL)
                            Issue.record("worker log: \(doomed.log)")
                            throw error
                        }
                        doomed.stop(SIGKILL)
                        let inFlight: Int = try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sending'")
                        #expect(inFlight == 5)

                        twilio.behaviour = .normal
                        let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                        try await runWorker(world, provider: provider, configuration: Self.fast) {
                            try await waitUntil(seconds: 30) {
                                try await world.scalar(
                                    "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 5
                            }
                        }
                        #expect(Set(twilio.messages.map(\.to)).count == ids.count)
                    }
                }
            }
        }
    }

    @Test func twoWorkerProcessesSendEveryDeliveryExactlyOnce() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeTwilio.run { twilio in
                try await world.test { client in
                    _ = try await sendMany(world, client, count: 300, prefix: "+551199950")
                    let environment = processEnvironment(world, twilio: twilio)
                    // One routes by conversion: its figures' refresh runs beside its deliveries.
                    let workers = try [environment, environment.merging(["OTP_ROUTING": "conversion"]) { $1 }].map {
                        try SpawnedProcess.start(["work", "--concurrency", "16"], environment: $0)
                    }
                    defer { workers.forEach { $0.stop() } }
                    try await waitUntil(seconds: 60) {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 300
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(twilio.requestCount == 300, "no delivery was sent twice")
                    #expect(twilio.messages.count == 300)
                    for worker in workers { #expect(worker.stop(), "otp work did not stop on SIGTERM: \(worker.log)") }
                }
            }
        }
    }

    @Test func failoverToTheSecondProviderThenReceiptsMarkDelivered() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    try await FakeMeta.run { meta in
                        twilio.behaviour = .status500
                        let routes = ProviderChains([
                            .whatsapp: [
                                TwilioProvider(configuration: twilio.configuration(), httpClient: http),
                                MetaWhatsAppProvider(configuration: meta.configuration(), httpClient: http),
                            ],
                            .sms: [TwilioProvider(configuration: twilio.configuration(), httpClient: http)],
                        ])
                        try await world.test { client in
                            let id = try await world.send(client, extra: ["channel": "whatsapp"])
                            try await runWorker(world, chains: routes, configuration: Self.fast) {
                                try await waitUntil {
                                    try await world.status(client, id).json["delivery_status"] as? String == "sent"
                                }
                            }
                            #expect(twilio.requestCount >= 1)
                            #expect(meta.messages.count == 1)
                            let messageID = try #require(meta.messages.first?.id)

                            let notification = """
                                {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",\
                                "value":{"messaging_product":"whatsapp","statuses":[{"id":"\(messageID)",\
                                "status":"delivered","timestamp":"1700000000","recipient_id":"5511999888777"}]}}]}]}
                                """
                            let forged = try await client.post(
                                "/webhooks/meta", notification, headers: [.init("X-Hub-Signature-256")!: "sha256=00"])
                            #expect(forged.status == .unauthorized)
                            #expect(try await world.status(client, id).json["delivery_status"] as? String == "sent")

                            let mac = HMAC<SHA256>.authenticationCode(
                                for: Data(notification.utf8),
                                using: SymmetricKey(data: Data("meta-test-secret".utf8)))
                            let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
                            let receipt = try await client.post(
                                "/webhooks/meta", notification, headers: [.init("X-Hub-Signature-256")!: signature])
                            #expect(receipt.status == .ok)
                            #expect(
                                try await world.status(client, id).json["delivery_status"] as? String == "delivered")

                            let handshake = try await client.get(
                                "/webhooks/meta?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=42",
                                headers: [:])
                            #expect(String(buffer: handshake.body) == "42")
                        }
                    }
                }
            }
        }
    }

    @Test func twilioStatusCallbacksAreCheckedAndRecorded() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                    try await world.test { client in
                        let id = try await world.send(client)
                        try await runWorker(world, provider: provider, configuration: Self.fast) {
                            try await waitUntil {
                                try await world.status(client, id).json["delivery_status"] as? String == "sent"
                            }
                        }
                        let sid = try #require(twilio.messages.first?.sid)
                        let parameters = [
                            ("MessageSid", sid), ("MessageStatus", "undelivered"), ("ErrorCode", "30003"),
                            ("AccountSid", twilio.accountSID),
                        ]
                        let forged = try await world.postTwilioStatus(client, parameters, signature: "bad")
                        #expect(forged.status == .unauthorized)
                        let accepted = try await world.postTwilioStatus(client, parameters)
                        #expect(accepted.status == .noContent)
                        #expect(try await world.status(client, id).json["delivery_status"] as? String == "failed")
                        let reason: String = try await world.scalar(
                            "SELECT last_error FROM otp.deliveries WHERE verification_id = \(id)")
                        #expect(reason == "30003")
                    }
                }
            }
        }
    }

    @Test func aVendorDownLongerThanTheCodeLivesEndsInFailedAndStopsCalling() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    twilio.behaviour = .status500
                    let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                    try await world.test { client in
                        let id = try await world.send(client)
                        // Long enough for several tries even on a busy machine, short enough to wait out.
                        try await world.setExpiry(id, secondsFromNow: 8)
                        try await runWorker(world, provider: provider, configuration: Self.fast) {
                            try await waitUntil(seconds: 30) {
                                try await world.status(client, id).json["delivery_status"] as? String == "failed"
                            }
                            let calls = twilio.requestCount
                            try await Task.sleep(for: .seconds(1))
                            #expect(twilio.requestCount == calls, "no call after the delivery failed")
                        }
                        #expect(twilio.requestCount > 1)
                        let reason: String = try await world.scalar(
                            "SELECT last_error FROM otp.deliveries WHERE verification_id = \(id)")
                        #expect(reason == "expired")
                    }
                }
            }
        }
    }

    @Test func onSIGTERMAWorkerFinishesWhatIsInFlightAndStops() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeTwilio.run { twilio in
                twilio.behaviour = .hang(seconds: 30)
                try await world.test { client in
                    _ = try await sendMany(world, client, count: 3, prefix: "+551199960")
                    let worker = try SpawnedProcess.start(
                        ["work"], environment: processEnvironment(world, twilio: twilio))
                    try await waitUntil(seconds: 30) { twilio.requestCount >= 3 }
                    // In flight calls end at the provider timeout (10 s), then the worker exits.
                    let stopped = await worker.signalAndWait(SIGTERM, seconds: 20)
                    if !stopped { worker.stop(SIGKILL) }
                    #expect(stopped, "the worker exits within the bound")
                    let stuck: Int = try await world.scalar(
                        "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sending'")
                    #expect(stuck == 0, "nothing is left leased to a stopped worker")
                    let queued: Int = try await world.scalar(
                        "SELECT count(*)::int FROM otp.deliveries WHERE state = 'queued'")
                    #expect(queued == 3, "the timed-out calls wait for another try")
                }
            }
        }
    }

    @Test func whatsAppMessagesUseTheAppsApprovedTemplateForTheLocale() async throws {
        try await TestApp.with(
            ownDatabase: true,
            configure: {
                $0.messages.whatsAppTemplates = ["pt-BR": WhatsAppTemplate(name: "otp_ptbr", language: "pt_BR")]
            }
        ) { world in
            try await withHTTPClient { http in
                // The fake knows only the app's template, as Meta knows only approved ones.
                try await FakeMeta.run(templateName: "otp_ptbr") { meta in
                    var configuration = meta.configuration()
                    configuration.templateName = "otp_code"
                    configuration.languageCode = "en"
                    let routes = ProviderChains([
                        .whatsapp: [MetaWhatsAppProvider(configuration: configuration, httpClient: http)]
                    ])
                    try await world.test { client in
                        let id = try await world.send(client, code: "909192", extra: ["channel": "whatsapp"])
                        try await runWorker(world, chains: routes, configuration: Self.fast) {
                            try await waitUntil {
                                try await world.status(client, id).json["delivery_status"] as? String == "sent"
                            }
                        }
                        let sent = try #require(meta.messages.first)
                        #expect(sent.templateName == "otp_ptbr" && sent.languageCode == "pt_BR")
                        #expect(sent.bodyCode == "909192" && sent.buttonCode == "909192")
                    }
                }
            }
        }
    }
}
