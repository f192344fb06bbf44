import Foundation

/// What a new code of an app looks like and how it may be used.
package struct AppPolicy: Sendable, Equatable {
    package enum ResendPolicy: String, Sendable, Codable, CaseIterable {
        /// Every resend makes a new code; the previous one stops working.
        case newCode = "new_code"
        /// A resend sends the same code again, within the original lifetime.
        case sameCode = "same_code"
    }

    package var codeLength: Int
    package var ttlSeconds: Int
    package var maxAttempts: Int
    package var maxSends: Int
    package var resendCooldownSeconds: Int
    package var channels: [MessageChannel]
    package var defaultChannel: MessageChannel
    package var senderName: String?
    /// Other senders a send may name in `from` (besides `senderName`): a tenant may not put any
    /// name or number it likes on a code message.
    package var allowedSenders: [String] = []
    package var resendPolicy: ResendPolicy
    /// Where a message goes when it failed for good on its own channel, in order (e.g. WhatsApp,
    /// then SMS, then voice): see `FallbackChain`.
    package var fallbackChannels: [MessageChannel] = []
    /// Limits that differ from the defaults, by rule name (`recipient_10m`...); 0 turns a rule off.
    package var rateLimits: [String: Int] = [:]
    /// Per channel, the countries a message may go to.
    package var countries: [MessageChannel: CountryRule] = [:]
    /// Per channel, the line types refused (e.g. SMS to fixed lines and VoIP).
    package var refusedLineTypes: [MessageChannel: [LineType]] = [:]
    /// Templates, locale and the optional lines of messages.
    package var messages = MessageSettings()
    /// Test numbers (E.164) and their fixed codes, sealed (see `TestNumbers`).
    package var testNumbers: [String: Data] = [:]
    /// The scripted outcome of test numbers that have one (`TestOutcome`); the others are `sent`.
    package var testOutcomes: [String: TestOutcome] = [:]
    /// Where the app's status webhooks go, if anywhere.
    package var webhook: AppWebhook?
    /// The guard against SMS pumping (`FraudGuard`).
    package var fraud = FraudGuardSettings()
    /// The most the app may spend per UTC day, estimated by the rate card, in its currency.
    package var spendLimitPerDay: Decimal?

    package static let codeLengths = 6...10
    package static let ttlRange = 60...600

    package static let `default` = AppPolicy(
        codeLength: 6,
        ttlSeconds: 300,
        maxAttempts: 5,
        maxSends: 5,
        resendCooldownSeconds: 30,
        channels: [.sms, .whatsapp],
        defaultChannel: .sms,
        senderName: nil,
        resendPolicy: .newCode
    )

    package init(
        codeLength: Int, ttlSeconds: Int, maxAttempts: Int, maxSends: Int, resendCooldownSeconds: Int,
        channels: [MessageChannel], defaultChannel: MessageChannel, senderName: String?, resendPolicy: ResendPolicy,
        fallbackChannels: [MessageChannel] = []
    ) {
        self.codeLength = codeLength
        self.ttlSeconds = ttlSeconds
        self.maxAttempts = maxAttempts
        self.maxSends = maxSends
        self.resendCooldownSeconds = resendCooldownSeconds
        self.channels = channels
        self.defaultChannel = defaultChannel
        self.senderName = senderName
        self.resendPolicy = resendPolicy
        self.fallbackChannels = fallbackChannels
    }

    /// The first rule the policy breaks, as a message an operator can act on; nil when it is sound.
    package var problem: String? {
        if !Self.codeLengths.contains(codeLength) { return "code length must be 6 to 10" }
        if !Self.ttlRange.contains(ttlSeconds) { return "ttl must be 60 to 600 seconds" }
        if !(1...100).contains(maxAttempts) { return "max attempts must be 1 to 100" }
        if !(1...100).contains(maxSends) { return "max sends must be 1 to 100" }
        if !(0...3600).contains(resendCooldownSeconds) { return "resend cooldown must be 0 to 3600 seconds" }
        if channels.isEmpty { return "at least one channel must be allowed" }
        if !channels.contains(defaultChannel) { return "the default channel must be one of the allowed channels" }
        if let stranger = fallbackChannels.first(where: { !channels.contains($0) }) {
            return "the fallback channel \(stranger.rawValue) must be one of the allowed channels"
        }
        if Set(fallbackChannels).count != fallbackChannels.count { return "a fallback channel may appear only once" }
        for (rule, limit) in rateLimits where RateLimitRule(rawValue: rule) == nil || !(0...1_000_000).contains(limit) {
            return "unknown rate-limit rule \(rule) or a limit outside 0...1000000"
        }
        if let senderName, SenderName.normalise(senderName) == nil {
            return "sender name must be 1 to 11 letters, digits or spaces, or an E.164 number"
        }
        if let bad = allowedSenders.first(where: { SenderName.normalise($0) == nil }) {
            return "allowed sender \(bad) must be 1 to 11 letters, digits or spaces, or an E.164 number"
        }
        if let problem = fraud.thresholds.problem { return problem }
        if let spendLimitPerDay, spendLimitPerDay <= 0 { return "the daily spend limit must be more than 0" }
        return nil
    }

    /// Whether a send may name `sender` (normalised) as its `from`.
    package func allowsSender(_ sender: String) -> Bool {
        ([senderName].compactMap { $0 } + allowedSenders).contains { SenderName.normalise($0) == sender }
    }
}

/// Which countries (ISO 3166 region codes) a channel may send to: only those allowed, or all but
/// those denied.
package enum CountryRule: Sendable, Equatable, Codable {
    case allow([String])
    case deny([String])

    package func permits(_ region: String) -> Bool {
        switch self {
        case .allow(let regions): regions.contains(region)
        case .deny(let regions): !regions.contains(region)
        }
    }
}
