import Foundation
import OTPCore

/// The fraud guard's counts in memory, kept as `otp.fraud_recent` and `otp.fraud_daily` keep them
/// (five-minute buckets, the last twelve; UTC days, the last fourteen), for the in-memory store and
/// for replays of a day of traffic at compressed time.
package struct FraudLedger: Sendable {
    private struct Tally: Sendable {
        var sent = 0
        var verified = 0
    }

    private var buckets: [FraudGuard.Counted: [Int: Tally]] = [:]
    private var days: [FraudGuard.Counted: [Int: Tally]] = [:]

    package init() {}

    /// The counts of `counted` at `now`.
    package func figures(_ counted: FraudGuard.Counted, at now: Date) -> FraudFigures {
        let bucket = Self.bucket(now)
        let day = Self.day(now)
        let recent = (bucket - 11...bucket).compactMap { buckets[counted]?[$0] }
        let history = (day - 13...day).compactMap { days[counted]?[$0] }
        return FraudFigures(
            recentSent: recent.reduce(0) { $0 + $1.sent }, recentVerified: recent.reduce(0) { $0 + $1.verified },
            historySent: history.reduce(0) { $0 + $1.sent }, historyVerified: history.reduce(0) { $0 + $1.verified })
    }

    /// Judges one send at `now` and counts it when it is not refused.
    package mutating func judge(appID: String, _ check: FraudCheck?, at now: Date) -> FraudGuard.Verdict? {
        guard let check else { return nil }
        let counts = Dictionary(
            uniqueKeysWithValues: check.scopes.map {
                let counted = FraudGuard.Counted(appID: appID, scope: $0)
                return (counted, figures(counted, at: now))
            })
        let verdict = FraudGuard.judge([(appID, check)], counts: counts)[0]
        if case .block = verdict { return verdict }
        for scope in check.scopes { count(FraudGuard.Counted(appID: appID, scope: scope), at: now) { $0.sent += 1 } }
        return verdict
    }

    /// Counts a verified code in the scopes its send was counted in.
    package mutating func verified(appID: String, scopes: [FraudScope], at now: Date) {
        for scope in scopes { count(FraudGuard.Counted(appID: appID, scope: scope), at: now) { $0.verified += 1 } }
    }

    private mutating func count(_ counted: FraudGuard.Counted, at now: Date, _ change: (inout Tally) -> Void) {
        change(&buckets[counted, default: [:]][Self.bucket(now), default: Tally()])
        change(&days[counted, default: [:]][Self.day(now), default: Tally()])
    }

    private static func bucket(_ time: Date) -> Int { Int((time.timeIntervalSince1970 / 300).rounded(.down)) }
    private static func day(_ time: Date) -> Int { Int((time.timeIntervalSince1970 / 86_400).rounded(.down)) }
}
