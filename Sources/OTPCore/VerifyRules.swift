import Foundation

/// The answer to one verify call, before it is turned into HTTP.
package enum VerifyOutcome: String, Sendable, Equatable, CaseIterable {
    case verified = "VERIFIED"
    case invalidCode = "INVALID_CODE"
    case maxAttemptsExceeded = "MAX_ATTEMPTS_EXCEEDED"
    case expired = "EXPIRED"
    case alreadyVerified = "ALREADY_VERIFIED"
    case notFound = "NOT_FOUND"
    /// Refused by a guessing limit of the recipient's; the code was not judged.
    case rateLimited = "RATE_LIMITED"
    /// The call named another transaction than the verification's (or none): a wrong try, the code
    /// not judged.
    case transactionMismatch = "TRANSACTION_MISMATCH"
}

/// A guessing limit that refused a verify before its code was judged.
package struct GuessRefusal: Sendable, Equatable {
    /// `verify_failures_1d` or `verify_backoff`, as `error.limit` names it.
    package var rule: String
    package var retryAfterSeconds: Int

    package init(rule: String, retryAfterSeconds: Int) {
        self.rule = rule
        self.retryAfterSeconds = retryAfterSeconds
    }

    package static let backoffRule = "verify_backoff"
}

/// What a verify does to the recipient's run of wrong codes (across its verifications).
package enum GuessChange: String, Sendable, Equatable {
    case unchanged
    /// One more wrong code: the run grows, the failure counter is charged, the wait clock restarts.
    case wrong
    /// A right code ends the run.
    case reset
}

package struct VerifyDecision: Sendable, Equatable {
    package var outcome: VerifyOutcome
    /// The verification afterwards: status and wrong-try count to store.
    package var status: VerificationStatus
    package var attempts: Int
    /// Whether this call is recorded as a verify attempt: a judged try, or one a limit refused.
    package var countsAsTry: Bool
    package var attemptsRemaining: Int
    package var refusal: GuessRefusal? = nil
    package var guesses: GuessChange = .unchanged

    package init(
        outcome: VerifyOutcome, status: VerificationStatus, attempts: Int, countsAsTry: Bool, attemptsRemaining: Int,
        refusal: GuessRefusal? = nil, guesses: GuessChange = .unchanged
    ) {
        self.outcome = outcome
        self.status = status
        self.attempts = attempts
        self.countsAsTry = countsAsTry
        self.attemptsRemaining = attemptsRemaining
        self.refusal = refusal
        self.guesses = guesses
    }

    /// The audit events this decision writes, for a verification that was `before` it: a refused
    /// try is `rate_limited`; a judged one succeeded or failed, and a change of state to locked or
    /// expired is an event of its own. Every store writes these, so they agree by construction.
    package func events(before: VerificationStatus) -> [EventKind] {
        if refusal != nil { return [.rateLimited] }
        var events: [EventKind] = [outcome == .verified ? .verifySucceeded : .verifyFailed]
        if status == .locked && before != .locked { events.append(.locked) }
        if status == .expired && before != .expired { events.append(.expired) }
        return events
    }
}

/// The recipient's guessing history as the store read it, under the same lock as the verification.
package struct RecipientGuesses: Sendable, Equatable {
    /// Wrong codes for the recipient in `verify_failures_1d`'s current window, and the rule's limit
    /// (nil when the app turned it off).
    package var failuresInWindow: Int
    package var failureLimit: Int?
    package var failureWindowEndsAt: Date
    /// Wrong codes in a row (any verification of the recipient; a right one resets it), and when
    /// the last one was tried.
    package var wrongInRow: Int
    package var lastWrongAt: Date?

    package init(
        failuresInWindow: Int = 0, failureLimit: Int? = nil, failureWindowEndsAt: Date = .distantFuture,
        wrongInRow: Int = 0, lastWrongAt: Date? = nil
    ) {
        self.failuresInWindow = failuresInWindow
        self.failureLimit = failureLimit
        self.failureWindowEndsAt = failureWindowEndsAt
        self.wrongInRow = wrongInRow
        self.lastWrongAt = lastWrongAt
    }

    package static let none = RecipientGuesses()

    /// The growing wait of NIST SP 800-63B 5.2.2: once the run reaches `maxAttempts`, each further
    /// try must wait 30 s × 2^(run − maxAttempts) after the last wrong one, at most an hour.
    package static func wait(wrongInRow: Int, maxAttempts: Int) -> TimeInterval? {
        guard wrongInRow >= maxAttempts else { return nil }
        let doublings = min(wrongInRow - maxAttempts, 7)  // 30 s × 2^7 is past the hour already
        return min(3600, 30 * pow(2, Double(doublings)))
    }

    /// Why a code may not be judged now, in the contract's order: the daily cap, then the wait.
    package func refusal(maxAttempts: Int, now: Date) -> GuessRefusal? {
        if let limit = failureLimit, failuresInWindow >= limit {
            return GuessRefusal(
                rule: RateLimitRule.verifyFailures1d.rawValue,
                retryAfterSeconds: Self.seconds(until: failureWindowEndsAt, from: now))
        }
        if let last = lastWrongAt, let wait = Self.wait(wrongInRow: wrongInRow, maxAttempts: maxAttempts) {
            let until = last.addingTimeInterval(wait)
            if now < until {
                return GuessRefusal(
                    rule: GuessRefusal.backoffRule, retryAfterSeconds: Self.seconds(until: until, from: now))
            }
        }
        return nil
    }

    static func seconds(until end: Date, from now: Date) -> Int {
        max(1, Int(end.timeIntervalSince(now).rounded(.up)))
    }
}

/// The verification state machine of the contract's verify table and its guessing limits. Pure:
/// the store locks the row and the recipient's guesses, asks this, and writes back everything it
/// says (refusals included), so concurrent calls are decided one at a time and none is free.
package enum VerifyRules {
    /// The checks in the contract's order: the recipient, the verification's own state, the daily
    /// failure cap, the growing wait, the transaction (a mismatch is a wrong try), then the code.
    package static func decide(
        _ verification: VerificationSnapshot, guesses: RecipientGuesses = .none, maxAttempts: Int? = nil,
        codeMatches: Bool, recipientMatches: Bool, transactionMatches: Bool = true, now: Date
    ) -> VerifyDecision {
        var decision = VerifyDecision(
            outcome: .notFound, status: verification.status, attempts: verification.attempts, countsAsTry: false,
            attemptsRemaining: verification.attemptsRemaining)
        let status = verification.effectiveStatus(now: now)
        if status == .expired { decision.status = .expired }
        // A different recipient is answered like an unknown id whatever the state, so the id alone
        // tells nothing; while pending it still costs a try.
        guard recipientMatches else {
            if status == .pending { wrongTry(&decision, verification) }
            decision.outcome = .notFound
            return decision
        }
        switch status {
        case .verified:
            decision.outcome = .alreadyVerified
        case .locked:
            decision.outcome = .maxAttemptsExceeded
        case .expired:
            decision.outcome = .expired
        case .canceled:
            decision.outcome = .notFound
        case .pending:
            decision.countsAsTry = true
            if let refusal = guesses.refusal(maxAttempts: maxAttempts ?? verification.maxAttempts, now: now) {
                decision.outcome = .rateLimited
                decision.refusal = refusal
            } else if !transactionMatches {
                wrongTry(&decision, verification)
                decision.outcome = decision.status == .locked ? .maxAttemptsExceeded : .transactionMismatch
            } else if codeMatches {
                decision.outcome = .verified
                decision.status = .verified
                decision.guesses = .reset
            } else {
                wrongTry(&decision, verification)
                decision.outcome = decision.status == .locked ? .maxAttemptsExceeded : .invalidCode
            }
        }
        return decision
    }

    private static func wrongTry(_ decision: inout VerifyDecision, _ verification: VerificationSnapshot) {
        decision.countsAsTry = true
        decision.guesses = .wrong
        decision.attempts += 1
        decision.attemptsRemaining = max(0, verification.maxAttempts - decision.attempts)
        if decision.attempts >= verification.maxAttempts { decision.status = .locked }
    }
}
