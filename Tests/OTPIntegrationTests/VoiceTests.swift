import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import OTPCore
import OTPProviders
import OTPTesting
import OTPWorker
import Testing

/// The voice channel and fallback chains: a message that fails for good moves along the app's
/// chain (`whatsapp,sms,voice`), and the last step is a Twilio call that reads the code.
@Suite struct VoiceTests {
    static let fast = DeliveryWorker.Configuration(
        pollInterval: .milliseconds(50), retry: RetryPolicy(baseDelay: 0.01, maxDelay: 0.05, maxAttempts: 3))

    @Test func aFixedLineFallsFromWhatsAppToSMSToACallThatReadsTheCode() async throws {
        try await TestApp.with(
            ownDatabase: true,
            configure: {
                $0.channels = [.sms, .whatsapp, .voice]
                $0.fallbackChannels = [.whatsapp, .sms, .voice]
            }
        ) { world in
            try await withHTTPClient { http in
                try await FakeMeta.run { meta in
                    try await FakeTwilio.run { twilio in
                        let recipient = "+5511999888777"
                        meta.behaviour = .invalidNumber  // not a WhatsApp user: Meta's 131026
                        twilio.landlines = [recipient]  // Twilio's 21614 to messages; calls go through
                        let twilioProvider = TwilioProvider(
                            configuration: twilio.configuration(voiceFrom: "+15005550010"), httpClient: http)
                        let chains = ProviderChains([
                            .whatsapp: [MetaWhatsAppProvider(configuration: meta.configuration(), httpClient: http)],
                            .sms: [twilioProvider], .voice: [twilioProvider],
                        ])
                        try await world.test { client in
                            let id = try await world.send(
                                client, code: "407123", recipient: recipient,
                                extra: ["channel": "whatsapp", "locale": "pt-BR"])
                            try await runWorker(world, chains: chains, configuration: Self.fast) {
                                try await waitUntil {
                                    try await world.status(client, id).json["delivery_status"] as? String == "sent"
                                }
                            }
                            let states: [String] = try await world.rows(
                                "SELECT channel || ':' || state FROM otp.deliveries WHERE verification_id = \(id) ORDER BY id"
                            )
                            #expect(states == ["whatsapp:failed", "sms:failed", "voice:sent"])
                            let attempts: [String] = try await world.rows(
                                """
                                SELECT provider || ':' || coalesce(error_code, outcome) FROM otp.delivery_attempts
                                WHERE verification_id = \(id) ORDER BY id
                                """)
                            #expect(attempts == ["meta:131026", "twilio:21614", "twilio:accepted"])
                            #expect(twilio.messages.isEmpty)

                            // The request the fake took is a valid Calls request (it parses the TwiML).
                            try #require(twilio.calls.count == 1)
                            let call = twilio.calls[0]
                            #expect(call.to == recipient)
                            #expect(call.from == "+15005550010")
                            #expect(call.says.map(\.language) == ["pt-BR", "pt-BR"])
                            #expect(
                                call.says.map(\.text) == [
                                    "O seu código de verificação de Test é: 4, 0, 7, 1, 2, 3.",
                                    "Repetindo: 4, 0, 7, 1, 2, 3.",
                                ])
                            #expect(try await world.status(client, id).json["channel"] as? String == "voice")

                            // Twilio's call callback: answered is delivered.
                            let answered = try await world.postTwilioStatus(
                                client,
                                [("CallSid", call.sid), ("CallStatus", "completed"), ("AccountSid", twilio.accountSID)])
                            #expect(answered.status == .noContent)
                            #expect(
                                try await world.status(client, id).json["delivery_status"] as? String == "delivered")
                            #expect(try await world.verify(client, id, code: "407123").status == .ok)
                        }
                    }
                }
            }
        }
    }

    @Test func aCallNobodyAnswersIsFailedAndAnAlphanumericSenderCannotCall() async throws {
        try await TestApp.with(ownDatabase: true, configure: { $0.channels = [.sms, .voice] }) { world in
            try await withHTTPClient { http in
                try await FakeTwilio.run { twilio in
                    // Only an alphanumeric SMS sender is configured: no call can be placed.
                    let alphanumericOnly = TwilioProvider(
                        configuration: twilio.configuration(from: "ACME"), httpClient: http)
                    let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                    try await world.test { client in
                        let refused = try await world.send(client, code: "111222", extra: ["channel": "voice"])
                        try await runWorker(
                            world, chains: ProviderChains([.voice: [alphanumericOnly]]), configuration: Self.fast
                        ) {
                            try await waitUntil {
                                try await world.status(client, refused).json["delivery_status"] as? String == "failed"
                            }
                        }
                        #expect(twilio.requestCount == 0)

                        let id = try await world.send(client, code: "333444", extra: ["channel": "voice"])
                        try await runWorker(
                            world, chains: ProviderChains([.voice: [provider]]), configuration: Self.fast
                        ) {
                            try await waitUntil {
                                try await world.status(client, id).json["delivery_status"] as? String == "sent"
                            }
                        }
                        let call = try #require(twilio.calls.first)
                        #expect(
                            call.from == "+15005550006", "the SMS number is the caller ID without TWILIO_VOICE_FROM")
                        // No locale asked for: the language of the recipient's country (+55).
                        #expect(call.says.map(\.language) == ["pt-BR", "pt-BR"])
                        let unanswered = try await world.postTwilioStatus(
                            client,
                            [("CallSid", call.sid), ("CallStatus", "no-answer"), ("AccountSid", twilio.accountSID)])
                        #expect(unanswered.status == .noContent)
                        #expect(try await world.status(client, id).json["delivery_status"] as? String == "failed")
                        let reason: String = try await world.scalar(
                            "SELECT last_error FROM otp.deliveries WHERE verification_id = \(id)")
                        #expect(reason == "call_no-answer")
                    }
                }
            }
        }
    }

    /// An app's name goes into the call's TwiML. `&`, `<` and `"` followed by a combining mark are
    /// one `Character` each, which a per-Character escape misses; they are escaped, and Twilio's
    /// strict reading of the document (per scalar, as an XML parser reads it) gives back what is said.
    @Test func anAppNameWithCombiningMarksAfterMarkupStillMakesValidTwiML() {
        let script = VoiceScript(appName: "A&\u{301}B<\u{301}C\"\u{301}D'\u{301}", code: "407", locale: "en")
        let says = TwiML.says(in: TwilioProvider.twiml(script))
        #expect(says?.map(\.text) == script.sentences)
    }

    @Test func aNewAppRefusesVoiceUntilItIsAllowed() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+5511999888777", "channel": "voice"]),
                    headers: world.basicAuth)
                #expect(response.status == .badRequest)
                #expect((response.json["error"] as? [String: Any])?["code"] as? String == "CHANNEL_NOT_ALLOWED")
            }
        }
    }

    @Test func aSandboxFixedLineReachesVoiceThroughTheChainWithoutAProvider() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let number = "+14155550209"
            let update = try SpawnedProcess.start(
                [
                    "apps", "update", world.app.id, "--channels", "sms,whatsapp,voice",
                    "--fallback-channel", "whatsapp,sms,voice", "--test-number", "\(number)=246810:landline", "--json",
                ],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            #expect(await update.waitForExit(seconds: 60) == 0, "\(update.log)")
            #expect(update.log.contains(#""fallback_channels":["whatsapp","sms","voice"]"#), "\(update.log)")

            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client, recipient: number, extra: ["channel": "whatsapp"])
                // Providers for WhatsApp only: a test number needs none for the steps after it.
                try await runWorker(world, chains: ProviderChains([.whatsapp: [provider]]), configuration: Self.fast) {
                    try await waitUntil(seconds: 30) {
                        try await world.status(client, id).json["delivery_status"] as? String == "delivered"
                    }
                }
                #expect(provider.attempts.isEmpty)
                let deliveries: [String] = try await world.rows(
                    """
                    SELECT channel || ' ' || state || coalesce(' ' || last_error, '')
                    FROM otp.deliveries WHERE verification_id = \(id) ORDER BY id
                    """)
                #expect(
                    deliveries == [
                        "whatsapp failed sandbox_landline", "sms failed sandbox_landline", "voice delivered",
                    ])
                #expect(try await world.verify(client, id, code: "246810").status == .ok)
            }
        }
    }
}
