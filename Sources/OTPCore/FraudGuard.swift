import Foundation

/// The guard against SMS pumping: traffic to numbers an attacker is paid for never verifies, and
/// real users mostly do. Per scope (the destination country, the block of numbers, the client IP) it
/// compares how much of the last hour's traffic verified with how much that scope usually verifies.
///
/// A send is over a scope's line when both hold, counting the send itself:
/// - the scope's unverified sends of the last hour exceed its floor (a quiet scope is never judged
///   on its first sends), and
/// - the scope's conversion of the last hour is below `tolerance` times its usual conversion (the
///   last 14 days, or `baseline` while the scope has fewer than `historyMinimum` sends).
///
/// With the default tolerance of 40 %, a scope verifying half of its codes is never over, whatever
/// its history; a burst that verifies nothing is over after its floor.
package enum FraudGuard {
    /// What the guard decided for one send.
    package enum Verdict: Sendable, Equatable {
        case pass
        /// Over a line in `monitor`: recorded, sent.
        case flag(FraudFinding)
        /// Over a line in `enforce`: refused before anything is charged or queued.
        case block(FraudFinding)
    }

    /// The verdict for a send whose scopes stand at `figures` (the send itself not counted yet).
    /// Scopes are judged most specific first; the first over its line is the finding.
    package static func judge(
        _ scopes: [FraudScope], figures: (FraudScope) -> FraudFigures, settings: FraudGuardSettings
    ) -> Verdict {
        guard settings.mode != .off else { return .pass }
        for scope in scopes.sorted(by: { $0.kind.order < $1.kind.order }) {
            let seen = figures(scope)
            guard isOver(seen, kind: scope.kind, thresholds: settings.thresholds) else { continue }
            let finding = FraudFinding(scope: scope, figures: seen, thresholds: settings.thresholds)
            return settings.mode == .enforce ? .block(finding) : .flag(finding)
        }
        return .pass
    }

    static func isOver(_ seen: FraudFigures, kind: FraudScope.Kind, thresholds: FraudThresholds) -> Bool {
        let sent = seen.recentSent + 1
        let unverified = sent - seen.recentVerified
        guard unverified > thresholds.floor(kind) else { return false }
        let usual = thresholds.usualConversion(seen)
        return Double(seen.recentVerified) < thresholds.tolerance * usual * Double(sent)
    }
}

/// What the store needs to judge one send: its scopes and its app's guard.
package struct FraudCheck: Sendable, Equatable {
    package var scopes: [FraudScope]
    package var settings: FraudGuardSettings

    package init(scopes: [FraudScope], settings: FraudGuardSettings) {
        self.scopes = scopes
        self.settings = settings
    }

    /// The check of a send, or nil when the guard does not judge it: the guard is off, the number is
    /// a test number, or the app's allow list lets it past.
    package static func of(app: App, recipient: String, country: String, ip: String?, test: Bool) -> FraudCheck? {
        let settings = app.policy.fraud
        guard settings.mode != .off, !test, !settings.allows(recipient: recipient, country: country, ip: ip) else {
            return nil
        }
        return FraudCheck(scopes: FraudScope.of(recipient: recipient, country: country, ip: ip), settings: settings)
    }
}

/// Where a send's traffic is counted: each send counts in one scope of each kind.
package struct FraudScope: Sendable, Hashable {
    package enum Kind: String, Sendable, CaseIterable, Codable {
        case country, prefix, ip

        /// Most specific first: a pumped block is named as the block, not as its country.
        var order: Int {
            switch self {
            case .prefix: 0
            case .ip: 1
            case .country: 2
            }
        }
    }

    package var kind: Kind
    package var value: String

    package init(_ kind: Kind, _ value: String) {
        self.kind = kind
        self.value = value
    }

    /// The stored key, e.g. `prefix:+5511912`.
    package var key: String { "\(kind.rawValue):\(value)" }

    package init?(key: String) {
        let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]) else { return nil }
        self.init(kind, parts[1])
    }

    /// The scopes of a send: its country, its block of 100,000 numbers (the E.164 number without
    /// its last five digits: ranges are sold and pumped in blocks), and its client IP (an IPv6
    /// client by its /64, which one subscriber holds whole).
    package static func of(recipient: String, country: String, ip: String?) -> [FraudScope] {
        var scopes = [FraudScope(.country, country), FraudScope(.prefix, String(recipient.dropLast(5)))]
        if let ip, let address = IPAddress(ip) {
            scopes.append(FraudScope(.ip, address.isIPv6 ? IPNetwork.slash64(of: address) : address.description))
        }
        return scopes
    }
}

/// A scope's sends and verifications: the last hour's and the last 14 days'.
package struct FraudFigures: Sendable, Equatable, Codable {
    package var recentSent = 0
    package var recentVerified = 0
    package var historySent = 0
    package var historyVerified = 0

    package init(recentSent: Int = 0, recentVerified: Int = 0, historySent: Int = 0, historyVerified: Int = 0) {
        (self.recentSent, self.recentVerified) = (recentSent, recentVerified)
        (self.historySent, self.historyVerified) = (historySent, historyVerified)
    }

    enum CodingKeys: String, CodingKey {
        case recentSent = "sent_1h"
        case recentVerified = "verified_1h"
        case historySent = "sent_14d"
        case historyVerified = "verified_14d"
    }
}

/// A scope over its line, with the figures it was judged on: what the audit event records.
package struct FraudFinding: Sendable, Equatable {
    package var scope: FraudScope
    package var figures: FraudFigures
    package var thresholds: FraudThresholds

    /// The audit event's details.
    package var details: [String: String] {
        [
            "rule": scope.kind.rawValue, "scope": scope.value,
            "sent_1h": "\(figures.recentSent)", "verified_1h": "\(figures.recentVerified)",
            "sent_14d": "\(figures.historySent)", "verified_14d": "\(figures.historyVerified)",
            "floor": "\(thresholds.floor(scope.kind))",
            "usual_conversion": String(format: "%.2f", thresholds.usualConversion(figures)),
            "tolerance": String(format: "%.2f", thresholds.tolerance),
        ]
    }
}

/// An app's guard: its mode, its lines, and what always passes.
package struct FraudGuardSettings: Sendable, Equatable {
    package enum Mode: String, Sendable, CaseIterable, Codable {
        /// Nothing is judged or counted.
        case off
        /// Judged and recorded (`fraud_flagged`); nothing is refused. The default.
        case monitor
        /// Judged, recorded (`fraud_blocked`) and refused with `403 FRAUD_BLOCKED`.
        case enforce
    }

    package var mode: Mode = .monitor
    package var thresholds = FraudThresholds()
    package var allow: [FraudAllowance] = []

    package init(mode: Mode = .monitor, thresholds: FraudThresholds = FraudThresholds(), allow: [FraudAllowance] = []) {
        self.mode = mode
        self.thresholds = thresholds
        self.allow = allow
    }

    /// True when the allow list lets the send past the guard.
    package func allows(recipient: String, country: String, ip: String?) -> Bool {
        let address = ip.flatMap(IPAddress.init)
        return allow.contains { $0.allows(recipient: recipient, country: country, ip: address) }
    }
}

/// The lines of the guard; the defaults are those the replay (`FraudReplayTests`) justifies.
package struct FraudThresholds: Sendable, Equatable, Codable {
    /// Unverified sends of the last hour a scope may always have, per kind.
    package var countryFloor = 50
    package var prefixFloor = 10
    package var ipFloor = 10
    /// A scope is over when its last hour converts below this share of its usual conversion.
    package var tolerance = 0.4
    /// The usual conversion of a scope with too little history of its own.
    package var baseline = 0.6
    /// Sends in 14 days before a scope's own conversion is trusted.
    package var historyMinimum = 50

    package init() {}

    package func floor(_ kind: FraudScope.Kind) -> Int {
        switch kind {
        case .country: countryFloor
        case .prefix: prefixFloor
        case .ip: ipFloor
        }
    }

    package func usualConversion(_ figures: FraudFigures) -> Double {
        guard figures.historySent >= historyMinimum else { return baseline }
        return Double(figures.historyVerified) / Double(figures.historySent)
    }

    /// Why these lines cannot work, if they cannot.
    package var problem: String? {
        if [countryFloor, prefixFloor, ipFloor].contains(where: { $0 < 0 }) { return "fraud floors must be 0 or more" }
        if !(0...1).contains(tolerance) { return "the fraud tolerance is a share between 0 and 1" }
        if !(0...1).contains(baseline) { return "the fraud baseline is a share between 0 and 1" }
        if historyMinimum < 1 { return "the fraud history minimum must be 1 or more" }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case tolerance, baseline
        case countryFloor = "country_floor"
        case prefixFloor = "prefix_floor"
        case ipFloor = "ip_floor"
        case historyMinimum = "history_minimum"
    }
}

/// One entry of an app's allow list: a number, a prefix, a country or a network.
package enum FraudAllowance: Sendable, Hashable {
    case number(String)
    case prefix(String)
    case country(String)
    case network(IPNetwork, text: String)

    /// `+E164`, `+DIGITS*`, a two-letter ISO country code, or a CIDR (`192.0.2.0/24`, `2001:db8::/32`).
    package init?(_ text: String) {
        let entry = text.trimmingCharacters(in: .whitespaces)
        let digits = entry.dropFirst()
        if entry.hasPrefix("+"), entry.hasSuffix("*") {
            let prefix = digits.dropLast()
            guard (1...14).contains(prefix.count), prefix.allSatisfy(\.isASCIIDigit) else { return nil }
            self = .prefix("+" + prefix)
        } else if entry.hasPrefix("+") {
            guard (7...15).contains(digits.count), digits.allSatisfy(\.isASCIIDigit) else { return nil }
            self = .number(entry)
        } else if entry.count == 2, entry.allSatisfy({ $0.isASCII && $0.isLetter }) {
            self = .country(entry.uppercased())
        } else if entry.contains("/"), let network = IPNetwork(entry) {
            self = .network(network, text: entry)
        } else {
            return nil
        }
    }

    /// The entry as written back (CLI, form, stored JSON).
    package var text: String {
        switch self {
        case .number(let number): number
        case .prefix(let prefix): prefix + "*"
        case .country(let country): country
        case .network(_, let text): text
        }
    }

    func allows(recipient: String, country: String, ip: IPAddress?) -> Bool {
        switch self {
        case .number(let number): recipient == number
        case .prefix(let prefix): recipient.hasPrefix(prefix)
        case .country(let code): country == code
        case .network(let network, _): ip.map(network.contains) ?? false
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension FraudGuard {
    /// A scope of one app: the unit the counts are kept by.
    package struct Counted: Sendable, Hashable {
        package var appID: String
        package var scope: FraudScope

        package init(appID: String, scope: FraudScope) {
            self.appID = appID
            self.scope = scope
        }
    }

    /// The verdicts of sends decided together, in order: each sees the counts before the batch
    /// plus the sends before it in the batch that were not refused. nil for a send not judged.
    package static func judge(
        _ sends: [(appID: String, check: FraudCheck?)], counts: [Counted: FraudFigures]
    ) -> [Verdict?] {
        var counts = counts
        return sends.map { send in
            guard let check = send.check else { return nil }
            let verdict = judge(
                check.scopes, figures: { counts[Counted(appID: send.appID, scope: $0)] ?? FraudFigures() },
                settings: check.settings)
            if case .block = verdict { return verdict }
            for scope in check.scopes {
                counts[Counted(appID: send.appID, scope: scope), default: FraudFigures()].countSent()
            }
            return verdict
        }
    }
}

extension FraudFigures {
    package mutating func countSent() {
        recentSent += 1
        historySent += 1
    }

    package mutating func countVerified() {
        recentVerified += 1
        historyVerified += 1
    }
}
