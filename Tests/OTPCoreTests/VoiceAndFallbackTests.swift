import OTPCore
import Testing

@Suite struct VoiceAndFallbackTests {
    @Test func aFailureMovesForwardThroughTheChainAndNeverBack() {
        let chain: [MessageChannel] = [.whatsapp, .sms, .voice]
        #expect(FallbackChain.candidates(after: .whatsapp, in: chain) == [.sms, .voice])
        #expect(FallbackChain.candidates(after: .sms, in: chain) == [.voice])
        #expect(FallbackChain.candidates(after: .voice, in: chain).isEmpty)
        // A channel outside the chain starts it from its first.
        #expect(FallbackChain.candidates(after: .whatsapp, in: [.sms, .voice]) == [.sms, .voice])
        #expect(FallbackChain.candidates(after: .sms, in: []).isEmpty)
    }

    @Test func aChainHoldsAllowedChannelsOnceEach() {
        var policy = AppPolicy.default
        policy.fallbackChannels = [.sms, .voice]
        #expect(policy.problem?.contains("voice must be one of the allowed channels") == true)
        policy.channels = [.sms, .whatsapp, .voice]
        #expect(policy.problem == nil)
        policy.fallbackChannels = [.sms, .voice, .sms]
        #expect(policy.problem == "a fallback channel may appear only once")
    }

    @Test func aNewAppDoesNotCall() {
        #expect(!AppPolicy.default.channels.contains(.voice))
    }

    @Test func theCallSaysEveryDigitApartTwice() {
        let script = VoiceScript(appName: "Acme", code: "407123", locale: "en")
        #expect(script.language == "en-US")
        #expect(
            script.sentences == [
                "Your Acme verification code is: 4, 0, 7, 1, 2, 3.", "Again, your code is: 4, 0, 7, 1, 2, 3.",
            ])
    }

    @Test func theCallSpeaksTheMessagesLanguageWithItsRegion() {
        #expect(VoiceScript(appName: "Acme", code: "1", locale: "pt-BR").language == "pt-BR")
        #expect(VoiceScript(appName: "Acme", code: "1", locale: "pt-PT").language == "pt-PT")
        #expect(VoiceScript(appName: "Acme", code: "1", locale: "de-CH").sentences[0].hasPrefix("Ihr"))
        #expect(VoiceScript(appName: "Acme", code: "1", locale: "nl").language == "en-US")
        #expect(VoiceScript(appName: "Acme", code: "1", locale: nil).language == "en-US")
        // Every locale of the message catalog has a wording of its own.
        for locale in TemplateCatalog.locales where locale != "en" {
            #expect(VoiceScript(appName: "A", code: "1", locale: locale).language != "en-US", "\(locale)")
        }
    }
}
