import Foundation
import OTPCore
import OTPPhoneNumbers
import Testing

@Suite struct RulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func verification(_ status: VerificationStatus = .pending, attempts: Int = 0, expiresIn: Double = 300)
        -> VerificationSnapshot
    {
        VerificationSnapshot(
            status: status, attempts: attempts, maxAttempts: 5, sends: 1, maxSends: 3,
            expiresAt: now.addingTimeInterval(expiresIn), resendAvailableAt: now.addingTimeInterval(30))
    }

    @Test func verifyTable() {
        let rows: [(VerificationSnapshot, Bool, Bool, VerifyOutcome, VerificationStatus, Int)] = [
            (verification(), true, true, .verified, .verified, 0),
            (verification(), false, true, .invalidCode, .pending, 1),
            (verification(attempts: 4), false, true, .maxAttemptsExceeded, .locked, 5),
            (verification(.locked, attempts: 5), true, true, .maxAttemptsExceeded, .locked, 5),
            (verification(expiresIn: -1), true, true, .expired, .expired, 0),
            (verification(.verified), true, true, .alreadyVerified, .verified, 0),
            (verification(), true, false, .notFound, .pending, 1),
            (verification(attempts: 4), true, false, .notFound, .locked, 5),
        ]
        for (snapshot, codeMatches, recipientMatches, outcome, status, attempts) in rows {
            let decision = VerifyRules.decide(
                snapshot, codeMatches: codeMatches, recipientMatches: recipientMatches, now: now)
            #expect(decision.outcome == outcome)
            #expect(decision.status == status)
            #expect(decision.attempts == attempts)
        }
    }

    @Test func resendRules() {
        #expect(ResendRules.refusal(verification(), now: now) == .cooldown(retryAfterSeconds: 30))
        #expect(ResendRules.refusal(verification(), now: now.addingTimeInterval(31)) == nil)
        #expect(ResendRules.refusal(verification(.verified), now: now.addingTimeInterval(31)) == .notPending)
        #expect(ResendRules.refusal(verification(expiresIn: 10), now: now.addingTimeInterval(31)) == .notPending)
        var spent = verification()
        spent.sends = 3
        #expect(ResendRules.refusal(spent, now: now.addingTimeInterval(31)) == .maxSendsExceeded)
    }

    @Test func retriesBackOffAndStopAtExpiry() {
        let policy = RetryPolicy(baseDelay: 1, maxDelay: 8, maxAttempts: 5)
        var rng = SystemRandomNumberGenerator()
        let expiry = now.addingTimeInterval(300)
        for attempt in 1...4 {
            let next = policy.nextAttempt(
                after: attempt, retryAfterSeconds: nil, now: now, expiresAt: expiry, using: &rng)
            let delay = next.map { $0.timeIntervalSince(now) } ?? -1
            #expect(delay >= 0 && delay <= min(8, pow(2, Double(attempt - 1))))
        }
        #expect(policy.nextAttempt(after: 5, retryAfterSeconds: nil, now: now, expiresAt: expiry, using: &rng) == nil)
        let honoured = policy.nextAttempt(after: 1, retryAfterSeconds: 20, now: now, expiresAt: expiry, using: &rng)
        #expect(honoured.map { $0.timeIntervalSince(now) } == 20)
        #expect(
            policy.nextAttempt(
                after: 1, retryAfterSeconds: 20, now: now, expiresAt: now.addingTimeInterval(10), using: &rng)
                == nil)
    }

    @Test func phoneNumbers() {
        #expect(PhoneNumber("+55 11 99988-8777")?.e164 == "+5511999888777")
        #expect(PhoneNumber("+1 (415) 555.2671")?.e164 == "+14155552671")
        for bad in [
            "5511999888777", "+0123456789", "+1234567", "+1234567890123456", "+1 555 CALL", "++15555550100", "",
        ] {
            #expect(PhoneNumber(bad) == nil, "\(bad)")
        }
        #expect(PhoneNumber.mask("+5511999888777") == "+*********8777")
    }

    @Test func sendValidationFillsDefaults() throws {
        let parameters = SendParameters(
            recipient: "+5511999888777", channel: nil, from: nil, template: nil, locale: nil, codeLength: nil,
            expiresIn: nil, metadata: nil)
        let validated = try SendValidation.validate(parameters, policy: .default, numbers: LibPhoneNumberParser())
        #expect(validated.channel == .sms && validated.codeLength == 6 && validated.ttlSeconds == 300)
        #expect(SenderName.normalise("Acme 2FA") == "Acme 2FA")
        #expect(SenderName.normalise("12345") == nil)
        #expect(SenderName.normalise("+1 415 555 2671") == "+14155552671")
    }
}

@Suite struct GuessingRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func pending(attempts: Int = 0) -> VerificationSnapshot {
        VerificationSnapshot(
            status: .pending, attempts: attempts, maxAttempts: 5, sends: 1, maxSends: 3,
            expiresAt: now.addingTimeInterval(300), resendAvailableAt: now)
    }

    @Test func theCapRefusesRightCodesAndTheOwnStateComesFirst() {
        let spent = RecipientGuesses(
            failuresInWindow: 3, failureLimit: 3, failureWindowEndsAt: now.addingTimeInterval(90))
        let right = VerifyRules.decide(pending(), guesses: spent, codeMatches: true, recipientMatches: true, now: now)
        #expect(right.outcome == .rateLimited)
        #expect(right.refusal == GuessRefusal(rule: "verify_failures_1d", retryAfterSeconds: 90))
        #expect(right.countsAsTry && right.attempts == 0 && right.guesses == .unchanged)
        var locked = pending(attempts: 5)
        locked.status = .locked
        #expect(
            VerifyRules.decide(locked, guesses: spent, codeMatches: true, recipientMatches: true, now: now).outcome
                == .maxAttemptsExceeded)
        #expect(
            VerifyRules.decide(pending(), guesses: spent, codeMatches: true, recipientMatches: false, now: now).outcome
                == .notFound)
    }

    @Test func theWaitDoublesFromMaxAttemptsAndStopsAtAnHour() {
        #expect(RecipientGuesses.wait(wrongInRow: 4, maxAttempts: 5) == nil)
        #expect(RecipientGuesses.wait(wrongInRow: 5, maxAttempts: 5) == 30)
        #expect(RecipientGuesses.wait(wrongInRow: 6, maxAttempts: 5) == 60)
        #expect(RecipientGuesses.wait(wrongInRow: 11, maxAttempts: 5) == 1920)
        #expect(RecipientGuesses.wait(wrongInRow: 12, maxAttempts: 5) == 3600)
        #expect(RecipientGuesses.wait(wrongInRow: 10_000, maxAttempts: 5) == 3600)
        let run = RecipientGuesses(wrongInRow: 6, lastWrongAt: now.addingTimeInterval(-20))
        let early = VerifyRules.decide(pending(), guesses: run, codeMatches: true, recipientMatches: true, now: now)
        #expect(early.refusal == GuessRefusal(rule: "verify_backoff", retryAfterSeconds: 40))
        let later = VerifyRules.decide(
            pending(), guesses: run, codeMatches: true, recipientMatches: true, now: now.addingTimeInterval(41))
        #expect(later.outcome == .verified && later.guesses == .reset)
    }

    @Test func splitBudgetsNeverAdmitMoreThanTheLimit() {
        for limit in [64, 100, 1000, 1001, 5000] {
            var policy = AppPolicy.default
            policy.rateLimits = [RateLimitRule.app1h.rawValue: limit]
            let app = App(id: "app_x", accountID: 1, name: "x", policy: policy)
            let number = ParsedPhoneNumber(e164: "+5511999888777", region: "BR", lineType: .mobile)
            let share = RateLimits.sendCharges(app: app, recipient: number, ip: nil).first { $0.rule == .app1h }?.limit
            #expect((share ?? 0) * 16 <= limit && (share ?? 0) * 16 > limit - 16, "limit \(limit)")
        }
    }

    @Test func addressesAndNetworks() throws {
        #expect(IPAddress.limitKey("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64")
        #expect(IPAddress.limitKey("2001:db8:1:2::9") == IPAddress.limitKey("2001:db8:1:2:ffff:1:2:3"))
        #expect(IPAddress.limitKey("198.51.100.7") == "198.51.100.7")
        #expect(IPAddress.limitKey("::ffff:198.51.100.7") == "198.51.100.7")
        #expect(IPAddress("::ffff:198.51.100.7") == IPAddress("198.51.100.7"))
        #expect(IPAddress("not-an-address") == nil)
        #expect(IPAddress("1.2.3.4.5") == nil)
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db9::1"))))
        let v4 = try #require(IPNetwork("10.0.0.0/8"))
        #expect(v4.contains(try #require(IPAddress("10.200.1.1"))))
        #expect(!v4.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(IPNetwork("10.0.0.0/33") == nil && IPNetwork("fd00::/129") == nil && IPNetwork("bogus/8") == nil)
        #expect(try #require(IPNetwork("192.0.2.1")).contains(try #require(IPAddress("192.0.2.1"))))
    }
}

/// The audit events of a verify, as every store writes them.
@Suite struct VerifyEventTests {
    func decision(_ outcome: VerifyOutcome, _ status: VerificationStatus, refused: Bool = false) -> VerifyDecision {
        VerifyDecision(
            outcome: outcome, status: status, attempts: 1, countsAsTry: true, attemptsRemaining: 0,
            refusal: refused ? GuessRefusal(rule: GuessRefusal.backoffRule, retryAfterSeconds: 30) : nil)
    }

    @Test func eachDecisionWritesItsEvents() {
        #expect(decision(.verified, .verified).events(before: .pending) == [.verifySucceeded])
        #expect(decision(.invalidCode, .pending).events(before: .pending) == [.verifyFailed])
        #expect(decision(.maxAttemptsExceeded, .locked).events(before: .pending) == [.verifyFailed, .locked])
        #expect(decision(.maxAttemptsExceeded, .locked).events(before: .locked) == [.verifyFailed])
        #expect(decision(.expired, .expired).events(before: .pending) == [.verifyFailed, .expired])
        #expect(decision(.rateLimited, .pending, refused: true).events(before: .pending) == [.rateLimited])
    }
}
