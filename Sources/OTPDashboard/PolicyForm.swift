import Foundation
import OTPCore

/// An app's settings as the dashboard's form shows and sends them: every policy option of
/// `otp apps update`. The form always sends the whole policy (an unticked box is "off"); what it
/// breaks is refused by `AppPolicy.problem`, the same rules as the CLI's.
enum PolicyForm {
    /// Applies the submitted form to `app`; a field that cannot be read names itself. Returns the
    /// webhook signing secret when one was made (to be shown this once).
    @discardableResult
    static func apply(_ form: FormData, to app: inout App, sealer: CodeSealer, rules: OutboundGuard)
        throws(PolicyProblem) -> String?
    {
        if let name = form["name"] {
            if let problem = DisplayName.problem(name, what: "name") { throw PolicyProblem(problem) }
            app.name = name
        }
        var policy = app.policy
        try change(form).apply(to: &policy, sealer: sealer)
        let secret = try AppWebhook.apply(
            url: form["webhook_url"] ?? "", rotateSecret: form.has("rotate_webhook_secret"), to: &policy, appID: app.id,
            sealer: sealer, rules: rules)
        app.policy = policy
        return secret
    }

    /// The change the form describes: the whole policy (lists replaced, an absent box off).
    static func change(_ form: FormData) throws(PolicyProblem) -> PolicyChange {
        var change = PolicyChange()
        change.codeLength = try integer(form, "code_length")
        change.ttlSeconds = try integer(form, "ttl")
        change.maxAttempts = try integer(form, "max_attempts")
        change.maxSends = try integer(form, "max_sends")
        change.resendCooldownSeconds = try integer(form, "resend_cooldown")
        change.channels = MessageChannel.allCases.filter { form.all("channels").contains($0.rawValue) }
        change.defaultChannel = try PolicyChange.optionalChannel(form["default_channel"])
        change.fallbackChannels = try PolicyChange.channelChain(
            form["fallback_channel"]?.replacingOccurrences(of: " ", with: ""))
        change.senderName = .some(form["from"])
        // An entry that is no sender is kept as typed, for `AppPolicy.problem` to name.
        change.allowedSenders = .replace(
            (form.raw("allowed_senders") ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { SenderName.normalise($0) ?? $0 })
        change.resendPolicy = try form["resend_policy"].map { text throws(PolicyProblem) in
            try PolicyChange.resendPolicy(text)
        }
        change.replacesRateLimits = true
        for rule in RateLimitRule.allCases {
            guard let text = form["rate_limit." + rule.rawValue] else { continue }
            let limit = try PolicyChange.rateLimit(rule: rule.rawValue, text)
            if limit != rule.defaultLimit { change.rateLimits[rule.rawValue] = limit }
        }
        for channel in MessageChannel.allCases {
            let regions = try PolicyChange.regions(form["countries." + channel.rawValue] ?? "")
            switch form["countries_mode." + channel.rawValue] ?? "all" {
            case "allow" where !regions.isEmpty: change.countries[channel] = .allow(regions)
            case "deny" where !regions.isEmpty: change.countries[channel] = .deny(regions)
            case "all", "allow", "deny": change.countries[channel] = CountryRule?.none
            default: throw PolicyProblem("countries must be all, allow or deny")
            }
            change.refusedLineTypes[channel] = LineType.allCases.filter {
                form.all("refuse_line_types." + channel.rawValue).contains($0.rawValue)
            }
        }
        change.defaultTemplate = .some(form["default_template"])
        change.defaultLocale = .some(
            try form["default_locale"].flatMap { text throws(PolicyProblem) in try PolicyChange.locale(text) })
        change.doNotShare = form.has("do_not_share")
        change.webOTPDomain = .some(
            try form["web_otp_domain"].flatMap { text throws(PolicyProblem) in try PolicyChange.webOTPDomain(text) })
        change.smsRetrieverHash = .some(
            try form["sms_retriever_hash"].flatMap { text throws(PolicyProblem) in
                try PolicyChange.smsRetrieverHash(text)
            })
        change.replacesWhatsAppTemplates = true
        for line in (form.raw("whatsapp_templates") ?? "").split(whereSeparator: \.isNewline) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let (locale, template) = try PolicyChange.whatsAppTemplate(String(line))
            change.whatsAppTemplates[locale] = template
        }
        // Test numbers: the ones ticked for removal, then the new lines (+E164=CODE).
        let removals = form.all("remove_test_number").map { $0 + "=" }
        let additions = (form.raw("test_numbers") ?? "").split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        change.testNumbers = removals + additions
        if let mode = form["fraud_guard"] { change.fraudMode = try PolicyChange.fraudMode(mode) }
        if let allow = form.raw("fraud_allow") {
            change.fraudAllow = .replace(
                try allow.split(whereSeparator: { $0.isNewline || $0 == "," }).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty }.map { entry throws(PolicyProblem) in try PolicyChange.fraudAllowance(entry) })
        }
        for name in PolicyChange.fraudThresholdNames {
            guard let text = form["fraud_threshold." + name] else { continue }
            let (_, value) = try PolicyChange.fraudThreshold("\(name)=\(text)")
            change.fraudThresholds[name] = value
        }
        if form.has("spend_limit_1d") {
            change.spendLimitPerDay = .some(try PolicyChange.spendLimit(form["spend_limit_1d"] ?? ""))
        }
        return change
    }

    /// The guard's thresholds as the form's rows: name, value and what it means.
    static func fraudThresholds(_ thresholds: FraudThresholds) -> [[String: Any]] {
        [
            (
                "country_floor", "\(thresholds.countryFloor)",
                "unverified sends of the last hour a country may always have"
            ),
            ("prefix_floor", "\(thresholds.prefixFloor)", "the same for a block of 100,000 numbers"),
            ("ip_floor", "\(thresholds.ipFloor)", "the same for a client IP (IPv6: its /64)"),
            ("tolerance", "\(thresholds.tolerance)", "over the line below this share of the scope's usual conversion"),
            ("baseline", "\(thresholds.baseline)", "usual conversion of a scope with too little history"),
            (
                "history_minimum", "\(thresholds.historyMinimum)",
                "sends in 14 days before a scope's own conversion counts"
            ),
        ].map { ["name": $0.0, "value": $0.1, "meaning": $0.2] }
    }

    private static func integer(_ form: FormData, _ name: String) throws(PolicyProblem) -> Int? {
        guard let text = form[name] else { return nil }
        guard let value = Int(text) else {
            throw PolicyProblem("\(name.replacingOccurrences(of: "_", with: " ")) must be a whole number")
        }
        return value
    }

    /// The form's fields for `app`, ready for the template.
    static func model(_ app: App) -> [String: Any] {
        let policy = app.policy
        let messages = policy.messages
        return [
            "appid": app.id, "name": app.name,
            "code_length": policy.codeLength, "ttl": policy.ttlSeconds, "max_attempts": policy.maxAttempts,
            "max_sends": policy.maxSends, "resend_cooldown": policy.resendCooldownSeconds,
            "from": policy.senderName ?? "",
            "allowed_senders": policy.allowedSenders.joined(separator: "\n"),
            "channels": MessageChannel.allCases.map { channel -> [String: Any] in
                let rule = policy.countries[channel]
                var countries = ""
                var mode = "all"
                switch rule {
                case .allow(let regions): (mode, countries) = ("allow", regions.joined(separator: ","))
                case .deny(let regions): (mode, countries) = ("deny", regions.joined(separator: ","))
                case nil: break
                }
                let refused = policy.refusedLineTypes[channel] ?? []
                return [
                    "channel": channel.rawValue, "allowed": policy.channels.contains(channel),
                    "default": policy.defaultChannel == channel,
                    "countries": countries, "mode_all": mode == "all", "mode_allow": mode == "allow",
                    "mode_deny": mode == "deny",
                    "line_types": LineType.allCases.map {
                        [
                            "type": $0.rawValue, "label": $0.rawValue.replacingOccurrences(of: "_", with: " "),
                            "refused": refused.contains($0),
                        ]
                    },
                ]
            },
            "fallback_channels": policy.fallbackChannels.map(\.rawValue).joined(separator: ","),
            "resend_new": policy.resendPolicy == .newCode, "resend_same": policy.resendPolicy == .sameCode,
            "limits": RateLimitRule.allCases.map { rule -> [String: Any] in
                [
                    "rule": rule.rawValue, "limit": policy.rateLimits[rule.rawValue] ?? rule.defaultLimit,
                    "default": rule.defaultLimit, "window": rule.windowSeconds, "scope": rule.scope,
                ]
            },
            "default_template": messages.defaultTemplate ?? "", "default_locale": messages.defaultLocale ?? "",
            "do_not_share": messages.extras.doNotShare, "web_otp_domain": messages.extras.webOTPDomain?.value ?? "",
            "sms_retriever_hash": messages.extras.smsRetrieverHash?.value ?? "",
            // The numbers only: a test number's code is never shown again.
            // A number's outcome only when it has one (an empty string would still open the section).
            "test_numbers": policy.testNumbers.keys.sorted().map { number in
                var entry = ["number": number]
                entry["outcome"] = policy.testOutcomes[number]?.text
                return entry
            },
            // The URL only: the signing secret is never shown again.
            "webhook_url": policy.webhook?.url ?? "",
            "whatsapp_templates": messages.whatsAppTemplates.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.name):\($0.value.language)" }.joined(separator: "\n"),
            "fraud_modes": FraudGuardSettings.Mode.allCases.map {
                ["mode": $0.rawValue, "selected": policy.fraud.mode == $0]
            },
            "fraud_thresholds": fraudThresholds(policy.fraud.thresholds),
            "fraud_allow": policy.fraud.allow.map(\.text).joined(separator: "\n"),
            "spend_limit_1d": policy.spendLimitPerDay.map { "\($0)" } ?? "",
        ]
    }
}
