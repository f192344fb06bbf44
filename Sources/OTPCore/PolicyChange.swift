import Foundation

/// A change to an app's policy, as `otp apps create|update` and the dashboard's form both describe
/// it. A field left nil leaves its part of the policy as it is. Each entry's text is read by the
/// parsers below, so the command line and the form accept and refuse the same entries, with the
/// same reasons; the policy's own rules (`AppPolicy.problem`) then judge the result, where each
/// caller saves it.
package struct PolicyChange: Sendable {
    /// How a list changes: replaced whole (the form sends all of it), or edited entry by entry (the
    /// command line's repeatable options).
    package enum ListChange<Element: Sendable & Equatable>: Sendable {
        case replace([Element])
        /// In order: each adds its element (once, at the end) or removes it.
        case edit([(element: Element, adds: Bool)])
    }

    package var codeLength: Int?
    package var ttlSeconds: Int?
    package var maxAttempts: Int?
    package var maxSends: Int?
    package var resendCooldownSeconds: Int?
    package var channels: [MessageChannel]?
    package var defaultChannel: MessageChannel?
    /// The whole fallback chain, in order; empty clears it.
    package var fallbackChannels: [MessageChannel]?
    /// `.some(nil)` clears it.
    package var senderName: String??
    package var allowedSenders: ListChange<String>?
    package var resendPolicy: AppPolicy.ResendPolicy?
    /// Limits set, by rule name; with `replacesRateLimits`, every other rule returns to its default.
    package var rateLimits: [String: Int] = [:]
    package var replacesRateLimits = false
    /// A channel's country rule; nil (in the map) clears it.
    package var countries: [MessageChannel: CountryRule?] = [:]
    /// A channel's refused line types; empty clears them.
    package var refusedLineTypes: [MessageChannel: [LineType]] = [:]
    package var defaultTemplate: String??
    package var defaultLocale: String??
    package var doNotShare: Bool?
    package var webOTPDomain: WebOTPDomain??
    package var smsRetrieverHash: SMSRetrieverHash??
    /// WhatsApp templates by locale; with `replacesWhatsAppTemplates`, the others go.
    package var whatsAppTemplates: [String: WhatsAppTemplate] = [:]
    package var replacesWhatsAppTemplates = false
    /// Test numbers, `+E164=CODE` (or `+E164=` to remove one): sealed by `apply`.
    package var testNumbers: [String] = []
    package var fraudMode: FraudGuardSettings.Mode?
    package var fraudAllow: ListChange<FraudAllowance>?
    /// The guard's lines set, by name (`prefix_floor`, `tolerance`...; see `fraudThreshold`).
    package var fraudThresholds: [String: Double] = [:]
    /// `.some(nil)` clears it.
    package var spendLimitPerDay: Decimal??

    package init() {}

    /// Applies the change; `sealer` seals test numbers' codes (needed only when some are given).
    package func apply(to policy: inout AppPolicy, sealer: CodeSealer?) throws(PolicyProblem) {
        if let codeLength { policy.codeLength = codeLength }
        if let ttlSeconds { policy.ttlSeconds = ttlSeconds }
        if let maxAttempts { policy.maxAttempts = maxAttempts }
        if let maxSends { policy.maxSends = maxSends }
        if let resendCooldownSeconds { policy.resendCooldownSeconds = resendCooldownSeconds }
        if let channels {
            policy.channels = channels
            // A default the app no longer allows moves to the first channel it does.
            if defaultChannel == nil, let first = channels.first, !channels.contains(policy.defaultChannel) {
                policy.defaultChannel = first
            }
        }
        if let defaultChannel { policy.defaultChannel = defaultChannel }
        if let fallbackChannels { policy.fallbackChannels = fallbackChannels }
        if let senderName { policy.senderName = senderName }
        switch allowedSenders {
        case .replace(let senders): policy.allowedSenders = senders
        case .edit(let edits):
            for (sender, adds) in edits {
                policy.allowedSenders.removeAll { SenderName.normalise($0) == sender }
                if adds { policy.allowedSenders.append(sender) }
            }
        case nil: break
        }
        if let resendPolicy { policy.resendPolicy = resendPolicy }
        if replacesRateLimits { policy.rateLimits = [:] }
        for (rule, limit) in rateLimits { policy.rateLimits[rule] = limit }
        for (channel, rule) in countries { policy.countries[channel] = rule }
        for (channel, types) in refusedLineTypes { policy.refusedLineTypes[channel] = types.isEmpty ? nil : types }
        if let defaultTemplate { policy.messages.defaultTemplate = defaultTemplate }
        if let defaultLocale { policy.messages.defaultLocale = defaultLocale }
        if let doNotShare { policy.messages.extras.doNotShare = doNotShare }
        if let webOTPDomain { policy.messages.extras.webOTPDomain = webOTPDomain }
        if let smsRetrieverHash { policy.messages.extras.smsRetrieverHash = smsRetrieverHash }
        if replacesWhatsAppTemplates { policy.messages.whatsAppTemplates = [:] }
        for (locale, template) in whatsAppTemplates { policy.messages.whatsAppTemplates[locale] = template }
        if let fraudMode { policy.fraud.mode = fraudMode }
        switch fraudAllow {
        case .replace(let entries): policy.fraud.allow = entries
        case .edit(let edits):
            for (entry, adds) in edits {
                policy.fraud.allow.removeAll { $0 == entry }
                if adds { policy.fraud.allow.append(entry) }
            }
        case nil: break
        }
        for (name, value) in fraudThresholds { Self.set(name, value, in: &policy.fraud.thresholds) }
        if let spendLimitPerDay { policy.spendLimitPerDay = spendLimitPerDay }
        if !testNumbers.isEmpty {
            guard let sealer else { throw PolicyProblem("test numbers need the server key to seal their codes") }
            try TestNumbers.apply(testNumbers, to: &policy, sealer: sealer)
        }
    }
}

/// The entries both the command line and the form read, each refused with one reason.
extension PolicyChange {
    package static func channel(_ text: String) throws(PolicyProblem) -> MessageChannel {
        guard let channel = MessageChannel(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw PolicyProblem("unknown channel \(text); expected sms, whatsapp or voice")
        }
        return channel
    }

    /// "none" (or nothing) clears.
    package static func optionalChannel(_ text: String?) throws(PolicyProblem) -> MessageChannel? {
        guard let text, !text.isEmpty, text != "none" else { return nil }
        return try channel(text)
    }

    /// A fallback chain, channels in order separated by commas (`whatsapp,sms,voice`); "none" (or
    /// nothing) is the empty chain.
    package static func channelChain(_ text: String?) throws(PolicyProblem) -> [MessageChannel] {
        guard let text, !text.isEmpty, text != "none" else { return [] }
        var chain: [MessageChannel] = []
        for name in text.split(separator: ",") { chain.append(try channel(String(name))) }
        return chain
    }

    /// Two-letter ISO 3166 codes, separated by commas or spaces.
    package static func regions(_ text: String) throws(PolicyProblem) -> [String] {
        let regions = text.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.uppercased() }
        guard regions.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isLetter) }) else {
            throw PolicyProblem("countries are two-letter ISO 3166 codes such as BR, PT")
        }
        return regions
    }

    package static func lineTypes(_ names: [String]) throws(PolicyProblem) -> [LineType] {
        var types: [LineType] = []
        for name in names {
            guard let type = LineType(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw PolicyProblem(
                    "unknown line type \(name); expected one of \(LineType.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            types.append(type)
        }
        return types
    }

    /// A sender a send may name in `from`: a name of 1 to 11 letters, digits or spaces, or an E.164
    /// number, in its one stored form.
    package static func sender(_ text: String) throws(PolicyProblem) -> String {
        guard let normalised = SenderName.normalise(text) else {
            throw PolicyProblem("a sender is 1 to 11 letters, digits or spaces, or an E.164 number")
        }
        return normalised
    }

    package static func resendPolicy(_ text: String) throws(PolicyProblem) -> AppPolicy.ResendPolicy {
        guard let policy = AppPolicy.ResendPolicy(rawValue: text) else {
            throw PolicyProblem("resend policy must be new_code or same_code")
        }
        return policy
    }

    /// A limit's rule and a whole number (0 turns the rule off).
    package static func rateLimit(rule: String, _ text: String) throws(PolicyProblem) -> Int {
        guard RateLimitRule(rawValue: rule) != nil else {
            throw PolicyProblem(
                "unknown limit \(rule); expected one of \(RateLimitRule.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard let limit = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw PolicyProblem("the limit \(rule) must be a whole number")
        }
        return limit
    }

    /// "none" clears.
    package static func locale(_ text: String) throws(PolicyProblem) -> String? {
        if text == "none" { return nil }
        guard SendValidation.isLocale(text) else {
            throw PolicyProblem("default locale must be a BCP 47 tag such as pt-BR")
        }
        return text
    }

    /// "none" clears.
    package static func webOTPDomain(_ text: String) throws(PolicyProblem) -> WebOTPDomain? {
        if text == "none" { return nil }
        guard let domain = WebOTPDomain(text) else {
            throw PolicyProblem("WebOTP domain must be a host name such as example.com")
        }
        return domain
    }

    /// "none" clears.
    package static func smsRetrieverHash(_ text: String) throws(PolicyProblem) -> SMSRetrieverHash? {
        if text == "none" { return nil }
        guard let hash = SMSRetrieverHash(text) else {
            throw PolicyProblem("the SMS Retriever hash is the app's 11-character hash")
        }
        return hash
    }

    /// `LOCALE=NAME:LANGUAGE`, e.g. `pt-BR=otp_code:pt_BR`.
    package static func whatsAppTemplate(_ entry: String) throws(PolicyProblem) -> (String, WhatsAppTemplate) {
        let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
        let template = parts.count == 2 ? parts[1].split(separator: ":").map(String.init) : []
        guard parts.count == 2, template.count == 2 else {
            throw PolicyProblem("WhatsApp templates are LOCALE=NAME:LANGUAGE, e.g. pt-BR=otp_code:pt_BR")
        }
        return (parts[0], WhatsAppTemplate(name: template[0], language: template[1]))
    }

    /// An amount in the rate card's currency, more than 0; "none" clears.
    package static func spendLimit(_ text: String) throws(PolicyProblem) -> Decimal? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" || trimmed.isEmpty { return nil }
        guard trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let amount = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")), amount > 0
        else { throw PolicyProblem("the daily spend limit is an amount such as 25.00, or none") }
        return amount
    }

    package static func fraudMode(_ text: String) throws(PolicyProblem) -> FraudGuardSettings.Mode {
        guard let mode = FraudGuardSettings.Mode(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw PolicyProblem("the fraud guard is off, monitor or enforce")
        }
        return mode
    }

    /// `+E164`, `+DIGITS*`, a two-letter country code or a CIDR.
    package static func fraudAllowance(_ text: String) throws(PolicyProblem) -> FraudAllowance {
        guard let allowance = FraudAllowance(text) else {
            throw PolicyProblem(
                "a fraud allow-list entry is +E164, +DIGITS* (a prefix), a country code such as BR, or a CIDR")
        }
        return allowance
    }

    /// The guard's settable lines: three floors (whole numbers), two shares (0 to 1) and the
    /// history a scope needs before its own conversion counts.
    package static let fraudThresholdNames = [
        "country_floor", "prefix_floor", "ip_floor", "tolerance", "baseline", "history_minimum",
    ]

    /// `NAME=VALUE` for one of `fraudThresholdNames`.
    package static func fraudThreshold(_ entry: String) throws(PolicyProblem) -> (String, Double) {
        let (name, text) = try pair(entry)
        guard fraudThresholdNames.contains(name) else {
            throw PolicyProblem(
                "unknown fraud line \(name); expected one of \(fraudThresholdNames.joined(separator: ", "))")
        }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw PolicyProblem("the fraud line \(name) must be a number")
        }
        if name != "tolerance", name != "baseline", value.rounded() != value {
            throw PolicyProblem("the fraud line \(name) must be a whole number")
        }
        return (name, value)
    }

    static func set(_ name: String, _ value: Double, in thresholds: inout FraudThresholds) {
        switch name {
        case "country_floor": thresholds.countryFloor = Int(value)
        case "prefix_floor": thresholds.prefixFloor = Int(value)
        case "ip_floor": thresholds.ipFloor = Int(value)
        case "tolerance": thresholds.tolerance = value
        case "baseline": thresholds.baseline = value
        case "history_minimum": thresholds.historyMinimum = Int(value)
        default: break
        }
    }

    /// `NAME=VALUE`, split at the first `=`.
    package static func pair(_ entry: String) throws(PolicyProblem) -> (String, String) {
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw PolicyProblem("expected NAME=VALUE") }
        return (parts[0], parts[1])
    }
}
