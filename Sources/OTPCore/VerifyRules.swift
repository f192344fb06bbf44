import Foundation

/// The answer to one verify call, before it is turned into HTTP.
public enum VerifyOutcome: String, Sendable, Equatable, CaseIterable {
    case verified = "VERIFIED"
    case invalidCode = "INVALID_CODE"
    case maxAttemptsExceeded = "MAX_ATTEMPTS_EXCEEDED"
    case expired = "EXPIRED"
    case alreadyVerified = "ALREADY_VERIFIED"
    case notFound = "NOT_FOUND"
}

public struct VerifyDecision: Sendable, Equatable {
    public var outcome: VerifyOutcome
    /// The verification afterwards: status and wrong-try count to store.
    public var status: VerificationStatus
    public var attempts: Int
    /// Whether this call was a try at a pending code (success or failure) and so is recorded.
    public var countsAsTry: Bool
    public var attemptsRemaining: Int
}

/// The verification state machine of the contract's verify table. Pure: the store locks the row,
/// asks this, and writes back what it says, so concurrent calls are decided one at a time.
public enum VerifyRules {
    public static func decide(
        _ verification: VerificationSnapshot, codeMatches: Bool, recipientMatches: Bool, now: Date
    ) -> VerifyDecision {
        var decision = VerifyDecision(
            outcome: .notFound, status: verification.status, attempts: verification.attempts, countsAsTry: false,
            attemptsRemaining: verification.attemptsRemaining)
        switch verification.effectiveStatus(now: now) {
        case .verified:
            decision.outcome = .alreadyVerified
        case .locked:
            decision.outcome = .maxAttemptsExceeded
        case .expired:
            decision.outcome = .expired
            decision.status = .expired
        case .canceled:
            decision.outcome = .notFound
        case .pending:
            decision.countsAsTry = true
            if recipientMatches && codeMatches {
                decision.outcome = .verified
                decision.status = .verified
                return decision
            }
            decision.attempts += 1
            decision.attemptsRemaining = max(0, verification.maxAttempts - decision.attempts)
            let exhausted = decision.attempts >= verification.maxAttempts
            if exhausted { decision.status = .locked }
            // A different recipient is answered like an unknown id, so it tells nothing; it still costs a try.
            decision.outcome = !recipientMatches ? .notFound : exhausted ? .maxAttemptsExceeded : .invalidCode
        }
        return decision
    }
}
