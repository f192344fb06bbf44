/// What a new code of an app looks like and how it may be used.
public struct AppPolicy: Sendable, Equatable {
    public enum ResendPolicy: String, Sendable, Codable, CaseIterable {
        /// Every resend makes a new code; the previous one stops working.
        case newCode = "new_code"
        /// A resend sends the same code again, within the original lifetime.
        case sameCode = "same_code"
    }

    public var codeLength: Int
    public var ttlSeconds: Int
    public var maxAttempts: Int
    public var maxSends: Int
    public var resendCooldownSeconds: Int
    public var channels: [Channel]
    public var defaultChannel: Channel
    public var senderName: String?
    public var resendPolicy: ResendPolicy
    /// Where a message goes when it failed for good on its own channel (e.g. WhatsApp, then SMS).
    public var fallbackChannel: Channel?
    /// Limits that differ from the defaults, by rule name (`recipient_10m`...); 0 turns a rule off.
    public var rateLimits: [String: Int] = [:]
    /// Per channel, the countries a message may go to.
    public var countries: [Channel: CountryRule] = [:]
    /// Per channel, the line types refused (e.g. SMS to fixed lines and VoIP).
    public var refusedLineTypes: [Channel: [LineType]] = [:]
    /// Templates, locale and the optional lines of messages.
    public var messages = MessageSettings()

    public static let codeLengths = 6...10
    public static let ttlRange = 60...600

    public static let `default` = AppPolicy(
        codeLength: 6,
        ttlSeconds: 300,
        maxAttempts: 5,
        maxSends: 5,
        resendCooldownSeconds: 30,
        channels: [.sms, .whatsapp],
        defaultChannel: .sms,
        senderName: nil,
        resendPolicy: .newCode,
        fallbackChannel: nil
    )

    public init(
        codeLength: Int, ttlSeconds: Int, maxAttempts: Int, maxSends: Int, resendCooldownSeconds: Int,
        channels: [Channel], defaultChannel: Channel, senderName: String?, resendPolicy: ResendPolicy,
        fallbackChannel: Channel? = nil
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
        self.fallbackChannel = fallbackChannel
    }

    /// The first rule the policy breaks, as a message an operator can act on; nil when it is sound.
    public var problem: String? {
        if !Self.codeLengths.contains(codeLength) { return "code length must be 6 to 10" }
        if !Self.ttlRange.contains(ttlSeconds) { return "ttl must be 60 to 600 seconds" }
        if !(1...100).contains(maxAttempts) { return "max attempts must be 1 to 100" }
        if !(1...100).contains(maxSends) { return "max sends must be 1 to 100" }
        if !(0...3600).contains(resendCooldownSeconds) { return "resend cooldown must be 0 to 3600 seconds" }
        if channels.isEmpty { return "at least one channel must be allowed" }
        if !channels.contains(defaultChannel) { return "the default channel must be one of the allowed channels" }
        if let fallbackChannel, !channels.contains(fallbackChannel) {
            return "the fallback channel must be one of the allowed channels"
        }
        for (rule, limit) in rateLimits where RateLimitRule(rawValue: rule) == nil || !(0...1_000_000).contains(limit) {
            return "unknown rate-limit rule \(rule) or a limit outside 0...1000000"
        }
        if let senderName, SenderName.normalise(senderName) == nil {
            return "sender name must be 1 to 11 letters, digits or spaces, or an E.164 number"
        }
        return nil
    }
}

/// Which countries (ISO 3166 region codes) a channel may send to: only those allowed, or all but
/// those denied.
public enum CountryRule: Sendable, Equatable, Codable {
    case allow([String])
    case deny([String])

    public func permits(_ region: String) -> Bool {
        switch self {
        case .allow(let regions): regions.contains(region)
        case .deny(let regions): !regions.contains(region)
        }
    }
}
