import Foundation
import OTPCore
import Synchronization

/// The JSON columns of `otp.apps` that hold an app's limit, country and line-type rules:
/// `{"recipient_10m": 3}`, `{"sms": {"allow": ["BR"]}}`, `{"sms": ["fixed_line", "voip"]}`.
enum PolicyJSON {
    static func rateLimits(_ policy: AppPolicy) -> String {
        encode(policy.rateLimits)
    }

    static func countries(_ policy: AppPolicy) -> String {
        var object: [String: [String: [String]]] = [:]
        for (channel, rule) in policy.countries {
            switch rule {
            case .allow(let regions): object[channel.rawValue] = ["allow": regions]
            case .deny(let regions): object[channel.rawValue] = ["deny": regions]
            }
        }
        return encode(object)
    }

    static func lineTypes(_ policy: AppPolicy) -> String {
        encode(
            Dictionary(
                uniqueKeysWithValues: policy.refusedLineTypes.map { ($0.key.rawValue, $0.value.map(\.rawValue)) }))
    }

    /// Throws when a column cannot be read: an app whose limits could not be read must not be
    /// served as if it had none.
    static func read(rateLimits: String, countries: String, lineTypes: String, into policy: inout AppPolicy) throws {
        let decoder = JSONDecoder()
        policy.rateLimits = try decoder.decode([String: Int].self, from: Data(rateLimits.utf8))
        for (channelName, rule) in try decoder.decode([String: [String: [String]]].self, from: Data(countries.utf8)) {
            let channel = try MessageChannel.stored(channelName)
            if let allowed = rule["allow"] {
                policy.countries[channel] = .allow(allowed)
            } else if let denied = rule["deny"] {
                policy.countries[channel] = .deny(denied)
            }
        }
        for (channelName, names) in try decoder.decode([String: [String]].self, from: Data(lineTypes.utf8)) {
            policy.refusedLineTypes[try MessageChannel.stored(channelName)] = try names.map(LineType.stored)
        }
    }

    static func messageOptions(_ policy: AppPolicy) -> String {
        let extras = policy.messages.extras
        var object: [String: String] = [:]
        if extras.doNotShare { object["do_not_share"] = "true" }
        if let domain = extras.webOTPDomain { object["web_otp_domain"] = domain.value }
        if let hash = extras.smsRetrieverHash { object["sms_retriever_hash"] = hash.value }
        // No sender holds a comma (letters, digits, spaces, or E.164).
        if !policy.allowedSenders.isEmpty { object["allowed_senders"] = policy.allowedSenders.joined(separator: ",") }
        return encode(object)
    }

    static func whatsAppTemplates(_ policy: AppPolicy) -> String {
        encode(policy.messages.whatsAppTemplates)
    }

    /// Test numbers and their sealed codes, base64.
    static func testNumbers(_ policy: AppPolicy) -> String {
        encode(policy.testNumbers.mapValues { $0.base64EncodedString() })
    }

    static func readTestNumbers(_ text: String, into policy: inout AppPolicy) throws {
        policy.testNumbers = try JSONDecoder().decode([String: String].self, from: Data(text.utf8)).mapValues {
            guard let sealed = Data(base64Encoded: $0) else { throw UnknownStoredValue(type: "test number", value: "") }
            return sealed
        }
    }

    static func testOutcomes(_ policy: AppPolicy) -> String {
        encode(policy.testOutcomes.mapValues(\.text))
    }

    static func readTestOutcomes(_ text: String, into policy: inout AppPolicy) throws {
        policy.testOutcomes = try JSONDecoder().decode([String: String].self, from: Data(text.utf8)).mapValues {
            guard let outcome = TestOutcome($0) else { throw UnknownStoredValue(type: "test outcome", value: $0) }
            return outcome
        }
    }

    static func readMessages(
        defaultTemplate: String?, defaultLocale: String?, options: String, whatsApp: String,
        into policy: inout AppPolicy
    ) throws {
        let decoder = JSONDecoder()
        let object = try decoder.decode([String: String].self, from: Data(options.utf8))
        policy.messages = MessageSettings(
            defaultTemplate: defaultTemplate, defaultLocale: defaultLocale,
            extras: TemplateExtras(
                doNotShare: object["do_not_share"] == "true",
                smsRetrieverHash: object["sms_retriever_hash"].flatMap(SMSRetrieverHash.init),
                webOTPDomain: object["web_otp_domain"].flatMap(WebOTPDomain.init)),
            whatsAppTemplates: try decoder.decode([String: WhatsAppTemplate].self, from: Data(whatsApp.utf8)))
        policy.allowedSenders = object["allowed_senders"].map { $0.split(separator: ",").map(String.init) } ?? []
    }

    /// The fraud guard: `{"mode": "enforce", "thresholds": {...}, "allow": ["+5511*", "BR"]}`; an
    /// empty object is the default guard (monitor).
    static func fraudGuard(_ policy: AppPolicy) -> String {
        let settings = policy.fraud
        return encode(
            StoredFraudGuard(
                mode: settings.mode, thresholds: settings.thresholds, allow: settings.allow.map(\.text)))
    }

    static func readFraudGuard(_ text: String, into policy: inout AppPolicy) throws {
        let stored = try JSONDecoder().decode(StoredFraudGuard.self, from: Data(text.utf8))
        policy.fraud = FraudGuardSettings(
            mode: stored.mode ?? .monitor, thresholds: stored.thresholds ?? FraudThresholds(),
            allow: try (stored.allow ?? []).map { entry in
                guard let allowance = FraudAllowance(entry) else {
                    throw UnknownStoredValue(type: "fraud allow-list entry", value: entry)
                }
                return allowance
            })
    }

    private struct StoredFraudGuard: Codable {
        var mode: FraudGuardSettings.Mode?
        var thresholds: FraudThresholds?
        var allow: [String]?
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension PolicyJSON {
    /// The text of an app's JSON rule columns and message defaults.
    struct RuleColumns: Hashable {
        var rateLimits: String
        var countries: String
        var lineTypes: String
        var defaultTemplate: String?
        var defaultLocale: String?
        var options: String
        var whatsApp: String
        var testNumbers: String
        var fraudGuard: String
        var testOutcomes: String
    }

    /// Reads the rules of `columns` into `policy`. Every request reads its app, and apps change
    /// seldom: decoded rules are kept by their text (so an edited app is decoded afresh).
    static func readRules(_ columns: RuleColumns, into policy: inout AppPolicy) throws {
        let rules =
            try decodedRules.withLock { $0[columns] }
            ?? {
                var rules = policy
                try read(
                    rateLimits: columns.rateLimits, countries: columns.countries, lineTypes: columns.lineTypes,
                    into: &rules)
                try readMessages(
                    defaultTemplate: columns.defaultTemplate, defaultLocale: columns.defaultLocale,
                    options: columns.options, whatsApp: columns.whatsApp, into: &rules)
                try readTestNumbers(columns.testNumbers, into: &rules)
                try readTestOutcomes(columns.testOutcomes, into: &rules)
                try readFraudGuard(columns.fraudGuard, into: &rules)
                decodedRules.withLock { cache in
                    if cache.count >= decodedRulesCapacity { cache.removeAll(keepingCapacity: true) }
                    cache[columns] = rules
                }
                return rules
            }()
        policy.rateLimits = rules.rateLimits
        policy.countries = rules.countries
        policy.refusedLineTypes = rules.refusedLineTypes
        policy.messages = rules.messages
        policy.allowedSenders = rules.allowedSenders
        policy.testNumbers = rules.testNumbers
        policy.testOutcomes = rules.testOutcomes
        policy.fraud = rules.fraud
    }

    private static let decodedRulesCapacity = 4096
    private static let decodedRules = Mutex<[RuleColumns: AppPolicy]>([:])
}
