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
        policy.codeLength = try integer(form, "code_length", policy.codeLength)
        policy.ttlSeconds = try integer(form, "ttl", policy.ttlSeconds)
        policy.maxAttempts = try integer(form, "max_attempts", policy.maxAttempts)
        policy.maxSends = try integer(form, "max_sends", policy.maxSends)
        policy.resendCooldownSeconds = try integer(form, "resend_cooldown", policy.resendCooldownSeconds)
        policy.channels = MessageChannel.allCases.filter { form.all("channels").contains($0.rawValue) }
        policy.defaultChannel = try channel(form["default_channel"], "default channel") ?? policy.defaultChannel
        policy.fallbackChannel = try channel(form["fallback_channel"], "fallback channel")
        policy.senderName = form["from"]
        policy.allowedSenders = (form.raw("allowed_senders") ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { SenderName.normalise($0) ?? $0 }
        guard let resend = AppPolicy.ResendPolicy(rawValue: form["resend_policy"] ?? policy.resendPolicy.rawValue)
        else { throw PolicyProblem("resend policy must be new_code or same_code") }
        policy.resendPolicy = resend
        var limits: [String: Int] = [:]
        for rule in RateLimitRule.allCases {
            guard let text = form["rate_limit." + rule.rawValue] else { continue }
            guard let limit = Int(text) else {
                throw PolicyProblem("the limit \(rule.rawValue) must be a whole number")
            }
            if limit != rule.defaultLimit { limits[rule.rawValue] = limit }
        }
        policy.rateLimits = limits
        for channel in MessageChannel.allCases {
            let regions = (form["countries." + channel.rawValue] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }
            )
            .map { $0.uppercased() }
            switch form["countries_mode." + channel.rawValue] ?? "all" {
            case "allow" where !regions.isEmpty: policy.countries[channel] = .allow(regions)
            case "deny" where !regions.isEmpty: policy.countries[channel] = .deny(regions)
            case "all", "allow", "deny": policy.countries[channel] = nil
            default: throw PolicyProblem("countries must be all, allow or deny")
            }
            guard regions.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isLetter) }) else {
                throw PolicyProblem("countries are two-letter ISO 3166 codes such as BR, PT")
            }
            let refused = LineType.allCases.filter {
                form.all("refuse_line_types." + channel.rawValue).contains($0.rawValue)
            }
            policy.refusedLineTypes[channel] = refused.isEmpty ? nil : refused
        }
        try applyMessages(form, to: &policy.messages)
        // Test numbers: the ones ticked for removal, then the new lines (+E164=CODE).
        let removals = form.all("remove_test_number").map { $0 + "=" }
        let additions = (form.raw("test_numbers") ?? "").split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        try TestNumbers.apply(removals + additions, to: &policy, sealer: sealer)
        let secret = try AppWebhook.apply(
            url: form["webhook_url"] ?? "", rotateSecret: form.has("rotate_webhook_secret"), to: &policy, appID: app.id,
            sealer: sealer, rules: rules)
        app.policy = policy
        return secret
    }

    private static func applyMessages(_ form: FormData, to messages: inout MessageSettings) throws(PolicyProblem) {
        messages.defaultTemplate = form["default_template"]
        if let locale = form["default_locale"], !SendValidation.isLocale(locale) {
            throw PolicyProblem("default locale must be a BCP 47 tag such as pt-BR")
        }
        messages.defaultLocale = form["default_locale"]
        messages.extras.doNotShare = form.has("do_not_share")
        if let domain = form["web_otp_domain"] {
            guard let parsed = WebOTPDomain(domain) else {
                throw PolicyProblem("WebOTP domain must be a host name such as example.com")
            }
            messages.extras.webOTPDomain = parsed
        } else {
            messages.extras.webOTPDomain = nil
        }
        if let hash = form["sms_retriever_hash"] {
            guard let parsed = SMSRetrieverHash(hash) else {
                throw PolicyProblem("the SMS Retriever hash is the app's 11-character hash")
            }
            messages.extras.smsRetrieverHash = parsed
        } else {
            messages.extras.smsRetrieverHash = nil
        }
        var templates: [String: WhatsAppTemplate] = [:]
        for line in (form.raw("whatsapp_templates") ?? "").split(whereSeparator: \.isNewline) {
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let template = parts.count == 2 ? parts[1].split(separator: ":").map(String.init) : []
            guard parts.count == 2, template.count == 2 else {
                throw PolicyProblem("WhatsApp templates are lines LOCALE=NAME:LANGUAGE, e.g. pt-BR=otp_code:pt_BR")
            }
            templates[parts[0]] = WhatsAppTemplate(name: template[0], language: template[1])
        }
        messages.whatsAppTemplates = templates
    }

    private static func integer(_ form: FormData, _ name: String, _ current: Int) throws(PolicyProblem) -> Int {
        guard let text = form[name] else { return current }
        guard let value = Int(text) else {
            throw PolicyProblem("\(name.replacingOccurrences(of: "_", with: " ")) must be a whole number")
        }
        return value
    }

    private static func channel(_ text: String?, _ what: String) throws(PolicyProblem) -> MessageChannel? {
        guard let text, text != "none" else { return nil }
        guard let channel = MessageChannel(rawValue: text) else {
            throw PolicyProblem("\(what) must be sms or whatsapp")
        }
        return channel
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
                    "default": policy.defaultChannel == channel, "fallback": policy.fallbackChannel == channel,
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
            "no_fallback": policy.fallbackChannel == nil,
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
            "test_numbers": policy.testNumbers.keys.sorted(),
            // The URL only: the signing secret is never shown again.
            "webhook_url": policy.webhook?.url ?? "",
            "whatsapp_templates": messages.whatsAppTemplates.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.name):\($0.value.language)" }.joined(separator: "\n"),
        ]
    }
}
