import AsyncHTTPClient
import Foundation
import OTPCore
import OTPProviders
import OTPTesting
import Testing

/// Each provider against a fake vendor speaking the vendor's wire format over real HTTP.
@Suite struct ProviderTests {
    static func message(_ channel: MessageChannel = .sms, code: String = "482913", token: String = "otp-delivery-1")
        -> OutboundMessage
    {
        OutboundMessage(
            deliveryID: 1, verificationID: "otp_x", channel: channel, recipient: "+5511999888777", sender: nil,
            code: code, body: "Your Test verification code is \(code).", idempotencyToken: token)
    }

    @Test func twilioSendsSMSAndWhatsAppInTwiliosFormat() async throws {
        try await withHTTPClient { http in
            try await FakeTwilio.run { twilio in
                let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                let sms = await provider.send(Self.message())
                #expect(sms.outcome == .accepted)
                #expect(sms.httpStatus == 201)
                #expect(sms.providerMessageID?.hasPrefix("SM") == true)
                let whatsapp = await provider.send(Self.message(.whatsapp, token: "otp-delivery-2"))
                #expect(whatsapp.outcome == .accepted)
                let messages = twilio.messages
                #expect(messages.count == 2)
                #expect(messages[0].to == "+5511999888777" && messages[0].from == "+15005550006")
                #expect(messages[0].body?.contains("482913") == true)
                #expect(messages[0].idempotencyToken == "otp-delivery-1")
                #expect(messages[1].to == "whatsapp:+5511999888777" && messages[1].from == "whatsapp:+14155238886")
            }
        }
    }

    @Test func twilioRetriesWithTheSameTokenSendOnce() async throws {
        try await withHTTPClient { http in
            try await FakeTwilio.run { twilio in
                let provider = TwilioProvider(configuration: twilio.configuration(), httpClient: http)
                let first = await provider.send(Self.message())
                let again = await provider.send(Self.message())
                #expect(first.providerMessageID == again.providerMessageID)
                #expect(twilio.messages.count == 1)
                #expect(twilio.requestCount == 2)
            }
        }
    }

    @Test func twilioFailuresAreClassified() async throws {
        try await withHTTPClient { http in
            try await FakeTwilio.run { twilio in
                // Long enough for a loaded machine to answer, shorter than the hang below.
                let provider = TwilioProvider(
                    configuration: twilio.configuration(timeout: .seconds(2)), httpClient: http)
                twilio.behaviour = .invalidNumber
                let invalid = await provider.send(Self.message())
                #expect(invalid.outcome == .permanent && invalid.errorCode == "21211" && invalid.httpStatus == 400)

                twilio.behaviour = .rateLimited(retryAfter: 7)
                let limited = await provider.send(Self.message())
                #expect(limited.outcome == .retryable && limited.retryAfterSeconds == 7 && limited.httpStatus == 429)

                twilio.behaviour = .status500
                let down = await provider.send(Self.message())
                #expect(down.outcome == .retryable && down.httpStatus == 500)

                twilio.behaviour = .hang(seconds: 5)
                let hung = await provider.send(Self.message(token: "otp-delivery-hang"))
                #expect(hung.outcome == .retryable && hung.errorCode == "timeout")

                twilio.behaviour = .closeConnection
                let dropped = await provider.send(Self.message(token: "otp-delivery-drop"))
                #expect(dropped.outcome == .retryable && dropped.httpStatus == nil)

                for result in [invalid, limited, down, hung, dropped] {
                    #expect(!(result.errorMessage ?? "").contains("482913"))
                    #expect(!(result.errorMessage ?? "").contains(twilio.authToken))
                }
            }
        }
    }

    @Test func twilioWithWrongCredentialsIsPermanent() async throws {
        try await withHTTPClient { http in
            try await FakeTwilio.run { twilio in
                var configuration = twilio.configuration()
                configuration.authToken = "wrong"
                let result = await TwilioProvider(configuration: configuration, httpClient: http).send(Self.message())
                #expect(result.outcome == .permanent && result.httpStatus == 401)
                #expect(twilio.messages.isEmpty)
            }
        }
    }

    @Test func metaSendsTheAuthenticationTemplate() async throws {
        try await withHTTPClient { http in
            try await FakeMeta.run { meta in
                let provider = MetaWhatsAppProvider(configuration: meta.configuration(), httpClient: http)
                let result = await provider.send(Self.message(.whatsapp))
                #expect(result.outcome == .accepted)
                #expect(result.providerMessageID?.hasPrefix("wamid.") == true)
                let sent = try #require(meta.messages.first)
                #expect(sent.to == "5511999888777")
                #expect(sent.bodyCode == "482913" && sent.buttonCode == "482913")
                #expect(sent.templateName == "otp_code")

                let sms = await provider.send(Self.message(.sms))
                #expect(sms.outcome == .permanent)

                meta.behaviour = .invalidNumber
                #expect(await provider.send(Self.message(.whatsapp)).outcome == .permanent)
                meta.behaviour = .rateLimited(retryAfter: 3)
                #expect(await provider.send(Self.message(.whatsapp)).outcome == .retryable)
            }
        }
    }

    @Test func standardWebhookSignatureMatchesTheSpecsVector() {
        let signature = StandardWebhookSignature.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: #"{"test": 2432232314}"#,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }
}
