import OTPCore
import Testing

/// `PolicyChange`, which both `otp apps update` and the dashboard's form build: what it changes,
/// what it leaves, and the entries it refuses.
@Suite struct PolicyChangeTests {
    @Test func aFieldLeftNilLeavesItsPartAsItIs() throws {
        var policy = AppPolicy.default
        policy.rateLimits = ["recipient_10m": 3]
        policy.allowedSenders = ["Acme"]
        var change = PolicyChange()
        change.ttlSeconds = 120
        try change.apply(to: &policy, sealer: nil)
        #expect(policy.ttlSeconds == 120)
        #expect(policy.rateLimits == ["recipient_10m": 3])
        #expect(policy.allowedSenders == ["Acme"])
        #expect(policy.codeLength == AppPolicy.default.codeLength)
    }

    @Test func editedListsChangeEntryByEntryAndReplacedOnesWhole() throws {
        var policy = AppPolicy.default
        policy.allowedSenders = ["Acme", "+14155550100"]
        policy.rateLimits = ["recipient_10m": 3, "app_1h": 50]
        var edit = PolicyChange()
        edit.allowedSenders = .edit([("Shop", true), ("Acme", false), ("Shop", false), ("Shop", true)])
        edit.rateLimits = ["ip_5m": 9]
        try edit.apply(to: &policy, sealer: nil)
        #expect(policy.allowedSenders == ["+14155550100", "Shop"])
        #expect(policy.rateLimits == ["recipient_10m": 3, "app_1h": 50, "ip_5m": 9])

        var replace = PolicyChange()
        replace.allowedSenders = .replace(["Other"])
        replace.replacesRateLimits = true
        replace.rateLimits = ["ip_5m": 1]
        try replace.apply(to: &policy, sealer: nil)
        #expect(policy.allowedSenders == ["Other"])
        #expect(policy.rateLimits == ["ip_5m": 1])
    }

    @Test func narrowingTheChannelsMovesADefaultTheAppNoLongerAllows() throws {
        var policy = AppPolicy.default
        policy.channels = [.sms, .whatsapp]
        policy.defaultChannel = .sms
        var change = PolicyChange()
        change.channels = [.whatsapp]
        try change.apply(to: &policy, sealer: nil)
        #expect(policy.defaultChannel == .whatsapp)
        policy.fallbackChannels = [.sms]
        change.fallbackChannels = []
        change.countries[.whatsapp] = .allow(["BR"])
        try change.apply(to: &policy, sealer: nil)
        #expect(policy.fallbackChannels.isEmpty)
        change.countries[.whatsapp] = CountryRule?.none
        try change.apply(to: &policy, sealer: nil)
        #expect(policy.countries[.whatsapp] == nil)
    }

    @Test func entriesAreReadOneWayAndRefusedWithOneReason() throws {
        #expect(try PolicyChange.channel(" whatsapp") == .whatsapp)
        #expect(try PolicyChange.optionalChannel("none") == nil)
        #expect(try PolicyChange.channelChain("whatsapp,sms,voice") == [.whatsapp, .sms, .voice])
        #expect(try PolicyChange.channelChain("none").isEmpty)
        #expect(throws: PolicyProblem.self) { try PolicyChange.channelChain("sms,fax") }
        #expect(try PolicyChange.regions("br, pt") == ["BR", "PT"])
        #expect(try PolicyChange.sender("+1 415 555 0100") == "+14155550100")
        #expect(try PolicyChange.rateLimit(rule: "recipient_10m", "0") == 0)
        #expect(try PolicyChange.locale("none") == nil)
        let (locale, template) = try PolicyChange.whatsAppTemplate("pt-BR=otp_code:pt_BR")
        #expect(locale == "pt-BR" && template == WhatsAppTemplate(name: "otp_code", language: "pt_BR"))
        let refusals: [(String, () throws -> Void)] = [
            ("unknown channel", { _ = try PolicyChange.channel("fax") }),
            ("two-letter", { _ = try PolicyChange.regions("BRA") }),
            ("unknown line type", { _ = try PolicyChange.lineTypes(["landline"]) }),
            ("a sender is", { _ = try PolicyChange.sender("https://x") }),
            ("unknown limit", { _ = try PolicyChange.rateLimit(rule: "per_moon", "1") }),
            ("whole number", { _ = try PolicyChange.rateLimit(rule: "ip_5m", "ten") }),
            ("BCP 47", { _ = try PolicyChange.locale("pt_BR!") }),
            ("LOCALE=NAME:LANGUAGE", { _ = try PolicyChange.whatsAppTemplate("pt-BR=otp_code") }),
            ("new_code or same_code", { _ = try PolicyChange.resendPolicy("sometimes") }),
        ]
        for (reason, entry) in refusals {
            #expect(throws: PolicyProblem.self, "\(reason)") { try entry() }
            do { try entry() } catch let problem as PolicyProblem {
                #expect(problem.description.contains(reason), "\(problem.description)")
            }
        }
    }
}
