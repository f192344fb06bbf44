import ArgumentParser
import Foundation
import Logging
import OTPCore
import OTPPostgres
import OTPServices

/// The policy options shared by `apps create` and `apps update`; unset ones leave the policy alone.
struct PolicyOptions: ParsableArguments {
    @Option(help: "Digits per code, 6 to 10.") var codeLength: Int?
    @Option(help: "Seconds a code lives, 60 to 600.") var ttl: Int?
    @Option(help: "Wrong codes allowed before the verification locks.") var maxAttempts: Int?
    @Option(help: "Messages allowed per verification (first send included).") var maxSends: Int?
    @Option(help: "Seconds between sends of one verification.") var resendCooldown: Int?
    @Option(help: "Allowed channels, e.g. sms,whatsapp.") var channels: String?
    @Option(help: "Channel used when a send names none.") var defaultChannel: String?
    @Option(help: "Sender name or number.") var from: String?
    @Option(help: "new_code or same_code.") var resendPolicy: String?
    @Option(
        help:
            "Channels to try, in order, when a message failed for good on its own, e.g. whatsapp,sms,voice (\"none\" to clear)."
    )
    var fallbackChannel: String?
    @Option(help: "A limit, RULE=N (e.g. recipient_10m=3; 0 turns the rule off). Repeatable.")
    var rateLimit: [String] = []
    @Option(help: "Only these countries on a channel, CHANNEL=BR,PT. Repeatable.")
    var allowCountries: [String] = []
    @Option(help: "All countries but these on a channel, CHANNEL=RU. Repeatable; CHANNEL= clears.")
    var denyCountries: [String] = []
    @Option(help: "Line types a channel refuses, CHANNEL=fixed_line,voip. Repeatable; CHANNEL= clears.")
    var refuseLineTypes: [String] = []
    @Option(help: "Template when a send names none: a use case (signup, login...) or a template id; \"none\" clears.")
    var defaultTemplate: String?
    @Option(help: "Locale when a send names none (e.g. pt-BR); \"none\" to pick by the recipient's country.")
    var defaultLocale: String?
    @Option(help: "Add a do-not-share line to every message: true or false.")
    var doNotShare: Bool?
    @Option(help: "Domain of the WebOTP line (@domain #code) for browsers to autofill; \"none\" clears.")
    var webOTPDomain: String?
    @Option(help: "Android SMS Retriever app hash (11 characters); \"none\" clears.")
    var smsRetrieverHash: String?
    @Option(help: "Approved WhatsApp template for a locale, LOCALE=NAME:LANGUAGE (e.g. pt-BR=otp_code:pt_BR).")
    var whatsappTemplate: [String] = []
    @Option(
        help: ArgumentHelp(
            "A test number and its fixed code, +E164=CODE or +E164=CODE:OUTCOME (no provider is called; +E164= removes it). Repeatable.",
            discussion:
                "OUTCOME scripts what its messages do: delivered, undelivered, delayed:SECONDS, provider_down, no_whatsapp or landline."
        ))
    var testNumber: [String] = []
    @Option(
        parsing: .unconditionalSingleValue,
        help: "Another sender a send may name in from: a name or E.164 number (-VALUE removes it). Repeatable.")
    var sender: [String] = []
    @Option(help: "The fraud guard: off, monitor (record only) or enforce (refuse with 403 FRAUD_BLOCKED).")
    var fraudGuard: String?
    @Option(
        parsing: .unconditionalSingleValue,
        help:
            "Always past the fraud guard: +E164, +DIGITS* (a prefix), a country (BR) or a CIDR (-VALUE removes it). Repeatable."
    )
    var fraudAllow: [String] = []
    @Option(
        help:
            "A threshold of the fraud guard, NAME=VALUE: country_floor, prefix_floor, ip_floor, tolerance, baseline, history_minimum. Repeatable."
    )
    var fraudThreshold: [String] = []
    @Option(
        name: .customLong("spend-limit-1d"),
        help:
            "Most the app may spend per UTC day, estimated by OTP_RATE_CARD (\"none\" clears); past it 429 SPEND_LIMIT_REACHED."
    )
    var spendLimit: String?

    /// Seals test numbers' codes; the server key is needed only when some are given.
    func sealer() throws -> CodeSealer? {
        testNumber.isEmpty ? nil : CodeSealer(keys: try Settings().serverKeys())
    }

    func apply(to policy: inout AppPolicy, sealer: CodeSealer?) throws {
        do {
            try change().apply(to: &policy, sealer: sealer)
        } catch let problem as PolicyProblem {
            throw CommandError("--test-number: \(problem.description)")
        }
        if let problem = policy.problem { throw CommandError(problem) }
    }

    /// The change these options describe; a refused entry names its option.
    func change() throws -> PolicyChange {
        var change = PolicyChange()
        change.codeLength = codeLength
        change.ttlSeconds = ttl
        change.maxAttempts = maxAttempts
        change.maxSends = maxSends
        change.resendCooldownSeconds = resendCooldown
        if let channels {
            change.channels = try Self.option("--channels") {
                try channels.split(separator: ",").map(String.init).map(PolicyChange.channel)
            }
        }
        if let defaultChannel {
            change.defaultChannel = try Self.option("--default-channel") { try PolicyChange.channel(defaultChannel) }
        }
        if let from { change.senderName = .some(from.isEmpty ? nil : from) }
        if !sender.isEmpty {
            change.allowedSenders = .edit(
                try sender.map { entry in
                    let adds = !entry.hasPrefix("-")
                    let sender = try Self.option("--sender \(entry)") {
                        try PolicyChange.sender(adds ? entry : String(entry.dropFirst()))
                    }
                    return (sender, adds)
                })
        }
        if let resendPolicy {
            change.resendPolicy = try Self.option("--resend-policy") { try PolicyChange.resendPolicy(resendPolicy) }
        }
        if let fraudGuard {
            change.fraudMode = try Self.option("--fraud-guard") { try PolicyChange.fraudMode(fraudGuard) }
        }
        if !fraudAllow.isEmpty {
            change.fraudAllow = .edit(
                try fraudAllow.map { entry in
                    let adds = !entry.hasPrefix("-")
                    let allowance = try Self.option("--fraud-allow \(entry)") {
                        try PolicyChange.fraudAllowance(adds ? entry : String(entry.dropFirst()))
                    }
                    return (allowance, adds)
                })
        }
        if let spendLimit {
            change.spendLimitPerDay = .some(
                try Self.option("--spend-limit-1d") { try PolicyChange.spendLimit(spendLimit) })
        }
        for entry in fraudThreshold {
            let (name, value) = try Self.option("--fraud-threshold \(entry)") { try PolicyChange.fraudThreshold(entry) }
            change.fraudThresholds[name] = value
        }
        if let fallbackChannel {
            change.fallbackChannels = try Self.option("--fallback-channel") {
                try PolicyChange.channelChain(fallbackChannel)
            }
        }
        for entry in rateLimit {
            try Self.option("--rate-limit \(entry)") {
                let (rule, value) = try PolicyChange.pair(entry)
                change.rateLimits[rule] = try PolicyChange.rateLimit(rule: rule, value)
            }
        }
        for (entries, allow, name) in [
            (allowCountries, true, "--allow-countries"), (denyCountries, false, "--deny-countries"),
        ] {
            for entry in entries {
                try Self.option("\(name) \(entry)") {
                    let (channelName, list) = try PolicyChange.pair(entry)
                    let regions = try PolicyChange.regions(list)
                    change.countries[try PolicyChange.channel(channelName)] =
                        regions.isEmpty ? CountryRule?.none : allow ? .allow(regions) : .deny(regions)
                }
            }
        }
        for entry in refuseLineTypes {
            try Self.option("--refuse-line-types \(entry)") {
                let (channelName, list) = try PolicyChange.pair(entry)
                change.refusedLineTypes[try PolicyChange.channel(channelName)] =
                    try PolicyChange.lineTypes(list.split(separator: ",").map(String.init))
            }
        }
        if let defaultTemplate { change.defaultTemplate = .some(defaultTemplate == "none" ? nil : defaultTemplate) }
        if let defaultLocale {
            change.defaultLocale = .some(try Self.option("--default-locale") { try PolicyChange.locale(defaultLocale) })
        }
        change.doNotShare = doNotShare
        if let webOTPDomain {
            change.webOTPDomain = .some(
                try Self.option("--web-otp-domain") { try PolicyChange.webOTPDomain(webOTPDomain) })
        }
        if let smsRetrieverHash {
            change.smsRetrieverHash = .some(
                try Self.option("--sms-retriever-hash") { try PolicyChange.smsRetrieverHash(smsRetrieverHash) })
        }
        for entry in whatsappTemplate {
            let (locale, template) = try Self.option("--whatsapp-template \(entry)") {
                try PolicyChange.whatsAppTemplate(entry)
            }
            change.whatsAppTemplates[locale] = template
        }
        change.testNumbers = testNumber
        return change
    }

    /// Runs `body`; its refusal becomes the command's one line, naming `option`.
    static func option<Value>(_ option: String, _ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let problem as PolicyProblem {
            throw CommandError("\(option): \(problem.description)")
        }
    }
}

/// Runs an admin action against `DATABASE_URL`.
func withDirectory<Result: Sendable>(_ body: @Sendable (PostgresDirectory) async throws -> Result) async throws
    -> Result
{
    let settings = Settings()
    Bootstrap.logging(level: try settings.logLevel())
    let logger = Logger(label: "otp.admin")
    return try await withPostgres(settings, logger: logger) { client in
        try await body(PostgresDirectory(client: client, logger: logger))
    }
}

struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps", abstract: "Create, change and list apps.",
        subcommands: [Create.self, Update.self, List.self])

    struct AppSummary: Encodable {
        var appid: String
        var name: String
        var account: String
        var policy: PolicyView
        /// A webhook signing secret just made, shown this once.
        var webhookSecret: String?

        enum CodingKeys: String, CodingKey {
            case appid, name, account, policy
            case webhookSecret = "webhook_secret"
        }

        init(appid: String, name: String, account: String, policy: AppPolicy) {
            (self.appid, self.name, self.account, self.policy) = (appid, name, account, PolicyView(policy: policy))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an app (and its account if new).")
        @Option(help: "The app's name, shown in messages.") var name: String
        @Option(help: "The account that owns it.") var account = "default"
        @OptionGroup var policy: PolicyOptions
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            for (text, what) in [(name, "--name"), (account, "--account")] {
                if let problem = DisplayName.problem(text, what: what) { throw CommandError(problem) }
            }
            var appPolicy = AppPolicy.default
            try policy.apply(to: &appPolicy, sealer: try policy.sealer())
            let (name, account, chosen) = (name, account, appPolicy)
            let app = try await withDirectory { try await $0.createApp(name: name, account: account, policy: chosen) }
            try Output.print(["appid": app.id], json: json) { app.id }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an app's policy.")
        @Argument(help: "The app id.") var appid: String
        @OptionGroup var policy: PolicyOptions
        @Option(
            name: .customLong("webhook-url"),
            help:
                "Where the app's status webhooks go (https to a public address, or to OTP_WEBHOOK_ALLOWED_NETWORKS); the first one prints its signing secret once; '' turns them off."
        )
        var webhookURL: String?
        @Flag(help: "Make a new webhook signing secret (printed once); the old one stops signing at once.")
        var rotateWebhookSecret = false
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let (appid, options, webhookURL, rotate) = (appid, policy, webhookURL, rotateWebhookSecret)
            let settings = Settings()
            let sealer =
                webhookURL != nil || rotate ? CodeSealer(keys: try settings.serverKeys()) : try policy.sealer()
            let destinations = try settings.webhookDestinations()
            // The URL's name is resolved and checked before the update's transaction, not inside it.
            if let url = webhookURL, !url.isEmpty, let refusal = await destinations.problemAtSave(url) {
                throw CommandError("--webhook-url: \(refusal.description)")
            }
            let (app, secret) = try await withDirectory { directory in
                var secret: String?
                let app = try await directory.updatePolicy(appID: appid) { policy in
                    try options.apply(to: &policy, sealer: sealer)
                    guard webhookURL != nil || rotate, let sealer else { return }
                    do {
                        secret = try AppWebhook.apply(
                            url: webhookURL, rotateSecret: rotate, to: &policy, appID: appid, sealer: sealer,
                            rules: destinations.rules)
                    } catch let error as PolicyProblem {
                        throw CommandError("--webhook-url: \(error.description)")
                    }
                }
                return (app, secret)
            }
            var summary = AppSummary(appid: app.id, name: app.name, account: "", policy: app.policy)
            summary.webhookSecret = secret
            try Output.print(summary, json: json) {
                // The secret is shown this once: it is kept only sealed.
                secret.map { "updated \(app.id)\nwebhook_secret \($0)" } ?? "updated \(app.id)"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List apps.")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let apps = try await withDirectory { try await $0.listApps() }
            let summaries = apps.map {
                AppSummary(appid: $0.app.id, name: $0.app.name, account: $0.account, policy: $0.app.policy)
            }
            try Output.print(["apps": summaries], json: json) {
                summaries.map { "\($0.appid)\t\($0.account)\t\($0.name)" }.joined(separator: "\n")
            }
        }
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, revoke and list API keys.",
        subcommands: [Create.self, Revoke.self, List.self, Reseal.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for the given apps; prints its secret this once.")
        @Option(name: .customLong("app"), help: "An app the key may use (repeat for more).") var apps: [String] = []
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if apps.isEmpty { throw CommandError("name at least one --app") }
        }

        func run() async throws {
            let secrets = APIKeySecrets(keys: try Settings().serverKeys())
            let apps = apps
            let key = try await withDirectory { try await $0.createKey(appIDs: apps, secrets: secrets) }
            try Output.print(["key_id": key.keyID, "secret": key.secret], json: json) {
                "key_id \(key.keyID)\nsecret \(key.secret)"
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every key's secret under the first key of OTP_SECRET_KEYS (a step of a key rotation).")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let keys = try Settings().serverKeys()
            let secrets = APIKeySecrets(keys: keys)
            let (result, numbers, webhooks) = try await withDirectory { directory in
                (
                    try await directory.resealKeys(secrets: secrets),
                    try await directory.resealTestNumbers(sealer: CodeSealer(keys: keys)),
                    try await directory.resealWebhookSecrets(sealer: CodeSealer(keys: keys))
                )
            }
            let unreadable =
                result.unreadable + numbers.unreadable + webhooks.unreadable.map { "webhook secret of \($0)" }
            try Output.print(
                [
                    "resealed": result.resealed, "unreadable": result.unreadable.count,
                    "test_numbers_resealed": numbers.resealed, "test_numbers_unreadable": numbers.unreadable.count,
                    "webhook_secrets_resealed": webhooks.resealed,
                    "webhook_secrets_unreadable": webhooks.unreadable.count,
                ], json: json
            ) {
                let done =
                    "resealed \(result.resealed) keys, \(numbers.resealed) test numbers and "
                    + "\(webhooks.resealed) webhook secrets"
                return unreadable.isEmpty
                    ? done
                    : "\(done); \(unreadable.count) no key of the ring opens: " + unreadable.joined(separator: ", ")
            }
            if !unreadable.isEmpty { throw ExitCode(1) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; it stops working at once.")
        @Argument(help: "The key id.") var keyID: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let keyID = keyID
            try await withDirectory { try await $0.revokeKey(id: keyID) }
            try Output.print(["revoked": keyID], json: json) { "revoked \(keyID)" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let keys = try await withDirectory { try await $0.listKeys() }
            try Output.print(["keys": keys], json: json) {
                keys.map { key in
                    let state = key.revokedAt == nil ? "active" : "revoked"
                    return "\(key.keyID)\t\(state)\t\(key.account)\t\((key.appIDs ?? ["*"]).joined(separator: ","))"
                }.joined(separator: "\n")
            }
        }
    }
}

/// A refusal printed as one line (`Error: ...`) without the usage text that `ValidationError` adds.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An app's policy as `otp apps ... --json` prints it.
struct PolicyView: Encodable {
    let policy: AppPolicy

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(policy.codeLength, forKey: Key("code_length"))
        try container.encode(policy.ttlSeconds, forKey: Key("ttl"))
        try container.encode(policy.maxAttempts, forKey: Key("max_attempts"))
        try container.encode(policy.maxSends, forKey: Key("max_sends"))
        try container.encode(policy.resendCooldownSeconds, forKey: Key("resend_cooldown"))
        try container.encode(policy.channels.map(\.rawValue), forKey: Key("channels"))
        try container.encode(policy.defaultChannel.rawValue, forKey: Key("default_channel"))
        try container.encode(policy.fallbackChannels.map(\.rawValue), forKey: Key("fallback_channels"))
        try container.encode(policy.senderName, forKey: Key("from"))
        try container.encode(policy.allowedSenders, forKey: Key("allowed_senders"))
        try container.encode(policy.resendPolicy.rawValue, forKey: Key("resend_policy"))
        try container.encode(policy.rateLimits, forKey: Key("rate_limits"))
        var countries: [String: [String: [String]]] = [:]
        for (channel, rule) in policy.countries {
            switch rule {
            case .allow(let regions): countries[channel.rawValue] = ["allow": regions]
            case .deny(let regions): countries[channel.rawValue] = ["deny": regions]
            }
        }
        try container.encode(countries, forKey: Key("countries"))
        try container.encode(
            Dictionary(
                uniqueKeysWithValues: policy.refusedLineTypes.map { ($0.key.rawValue, $0.value.map(\.rawValue)) }),
            forKey: Key("refused_line_types"))
        let messages = policy.messages
        try container.encode(messages.defaultTemplate, forKey: Key("default_template"))
        try container.encode(messages.defaultLocale, forKey: Key("default_locale"))
        try container.encode(messages.extras.doNotShare, forKey: Key("do_not_share"))
        try container.encode(messages.extras.webOTPDomain?.value, forKey: Key("web_otp_domain"))
        try container.encode(messages.extras.smsRetrieverHash?.value, forKey: Key("sms_retriever_hash"))
        try container.encode(messages.whatsAppTemplates, forKey: Key("whatsapp_templates"))
        // The numbers only: their codes stay sealed.
        try container.encode(policy.testNumbers.keys.sorted(), forKey: Key("test_numbers"))
        try container.encode(policy.testOutcomes.mapValues(\.text), forKey: Key("test_outcomes"))
        // The URL only: the secret stays sealed.
        try container.encode(policy.webhook?.url, forKey: Key("webhook_url"))
        try container.encode(policy.fraud.mode.rawValue, forKey: Key("fraud_guard"))
        try container.encode(policy.fraud.allow.map(\.text), forKey: Key("fraud_allow"))
        try container.encode(policy.fraud.thresholds, forKey: Key("fraud_thresholds"))
        try container.encode(policy.spendLimitPerDay.map { "\($0)" }, forKey: Key("spend_limit_1d"))
    }
}
