import Foundation
import OTPCore
import Synchronization

/// The verification store's contract kept in memory, one lock around it all (the PostgreSQL store
/// gets the same one-at-a-time from its row locks): limits as fixed windows, idempotency, the
/// core's verify and resend decisions applied as they say, and the queued deliveries.
package final class InMemoryVerificationStore: VerificationStore {
    package struct Stored: Sendable {
        package var new: NewVerification
        package var status: VerificationStatus = .pending
        package var attempts = 0
        package var sends = 1
        package var channel: MessageChannel
        package var codeDigest: Data
        package var createdAt: Date
        package var expiresAt: Date
        package var resendAvailableAt: Date
        package var verifiedAt: Date?
        package var deliveryStatus: DeliveryStatus = .queued

        var snapshot: VerificationSnapshot {
            VerificationSnapshot(
                status: status, attempts: attempts, maxAttempts: new.maxAttempts, sends: sends, maxSends: new.maxSends,
                expiresAt: expiresAt, resendAvailableAt: resendAvailableAt)
        }

        var result: SendResult {
            SendResult(
                verificationID: new.id, status: status, channel: channel, recipient: new.recipient,
                expiresAt: expiresAt, resendAvailableAt: resendAvailableAt, deliveryStatus: deliveryStatus)
        }
    }

    /// What the store wrote to the audit trail, oldest first.
    package struct Event: Sendable, Equatable {
        package var kind: EventKind
        package var appID: String
        package var verificationID: String?
        package var actor: Caller
        package var details: [String: String]
        package var at: Date
    }

    private struct State {
        var verifications: [String: Stored] = [:]
        var order: [String] = []
        var counters: [String: Int] = [:]
        var idempotency: [String: (digest: Data, verificationID: String)] = [:]
        var wrongInRow: [String: (count: Int, last: Date)] = [:]
        var events: [Event] = []
        var verifyAttempts: [(verificationID: String, success: Bool)] = []
        var deliveries: [(verificationID: String, channel: MessageChannel, sealedCode: Data)] = []
        var fraud = FraudLedger()
        var fraudScopes: [String: [FraudScope]] = [:]
        /// Estimated spend per app and UTC day (days since 1970).
        var spent: [String: [Int: Decimal]] = [:]
    }

    private let state = Mutex(State())
    package let clock: TestClock

    package init(clock: TestClock = TestClock()) { self.clock = clock }

    package var verifications: [Stored] {
        state.withLock { state in state.order.compactMap { state.verifications[$0] } }
    }
    package var events: [Event] { state.withLock { $0.events } }
    /// The deliveries queued, in order: one per send and resend.
    package var queuedDeliveries: [(verificationID: String, channel: MessageChannel, sealedCode: Data)] {
        state.withLock { $0.deliveries }
    }

    package func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge],
        fraud: FraudCheck?, spend: SpendCharge?, actor: Caller
    ) async throws -> SendOutcome {
        let now = clock.now
        return try state.withLock { state in
            var ledger = state.fraud
            switch ledger.judge(appID: verification.appID, fraud, at: now) {
            case .block(let finding):
                state.fraud = ledger
                state.events.append(
                    Event(
                        kind: .fraudBlocked, appID: verification.appID, verificationID: nil, actor: actor,
                        details: finding.details, at: now))
                throw OTPFailure.fraudBlocked(rule: finding.scope.kind.rawValue)
            case .flag(let finding):
                state.events.append(
                    Event(
                        kind: .fraudFlagged, appID: verification.appID, verificationID: verification.id, actor: actor,
                        details: finding.details, at: now))
            case .pass, nil: break
            }
            if let idempotency {
                let key = "\(idempotency.accountID)/\(idempotency.key)"
                if let seen = state.idempotency[key] {
                    guard seen.digest == idempotency.requestDigest, let first = state.verifications[seen.verificationID]
                    else { throw OTPFailure.idempotencyKeyReused }
                    return .replayed(first.result)
                }
                state.idempotency[key] = (idempotency.requestDigest, verification.id)
            }
            if let spend {
                let day = Int(now.timeIntervalSince1970 / 86_400)
                let spent = state.spent[verification.appID]?[day] ?? 0
                guard spent + spend.estimate <= spend.limit else {
                    throw OTPFailure.spendLimitReached(
                        retryAfterSeconds: SpendCharge.secondsUntilMidnightUTC(from: now))
                }
                try Self.charge(charges, in: &state, now: now)
                state.spent[verification.appID, default: [:]][day] = spent + spend.estimate
            } else {
                try Self.charge(charges, in: &state, now: now)
            }
            state.fraud = ledger
            state.fraudScopes[verification.id] = fraud?.scopes
            let stored = Stored(
                new: verification, channel: verification.channel, codeDigest: verification.codeDigest, createdAt: now,
                expiresAt: now + TimeInterval(verification.ttlSeconds),
                resendAvailableAt: now + TimeInterval(verification.resendCooldownSeconds))
            state.verifications[verification.id] = stored
            state.order.append(verification.id)
            state.deliveries.append((verification.id, verification.channel, verification.sealedCode))
            state.events.append(
                Event(
                    kind: .sendRequested, appID: verification.appID, verificationID: verification.id, actor: actor,
                    details: ["channel": verification.channel.rawValue], at: now))
            return .created(stored.result)
        }
    }

    package func verify(
        verificationID: String, appID: String, actor: Caller, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? {
        let now = clock.now
        return try state.withLock { state in
            if let gate { try Self.charge([gate], in: &state, now: now) }
            guard var stored = state.verifications[verificationID], stored.new.appID == appID else { return nil }
            let recipient = stored.new.recipient
            let failureCharge = onFailure(recipient)
            let run = state.wrongInRow[recipient]
            let guesses = RecipientGuesses(
                failuresInWindow: failureCharge.map { state.counters[Self.counterKey($0, now: now)] ?? 0 } ?? 0,
                failureLimit: failureCharge?.limit,
                failureWindowEndsAt: failureCharge.map { Self.windowEnd($0, now: now) }
                    ?? .distantFuture,
                wrongInRow: run?.count ?? 0, lastWrongAt: run?.last)
            var context = VerifyContext(
                snapshot: stored.snapshot, recipient: recipient, codeDigest: stored.codeDigest, guesses: guesses,
                now: now)
            context.transaction = stored.new.transaction
            let decision = decide(context)
            for kind in decision.events(before: stored.status) {
                state.events.append(
                    Event(kind: kind, appID: appID, verificationID: verificationID, actor: actor, details: [:], at: now)
                )
            }
            stored.status = decision.status
            stored.attempts = decision.attempts
            if decision.outcome == .verified {
                stored.verifiedAt = now
                if let scopes = state.fraudScopes[verificationID] {
                    state.fraud.verified(appID: appID, scopes: scopes, at: now)
                }
            }
            state.verifications[verificationID] = stored
            switch decision.guesses {
            case .unchanged: break
            case .reset: state.wrongInRow[recipient] = nil
            case .wrong:
                state.wrongInRow[recipient] = ((run?.count ?? 0) + 1, now)
                // Charged without a ceiling: the cap refuses the next verify, never this one.
                if let failureCharge { state.counters[Self.counterKey(failureCharge, now: now), default: 0] += 1 }
            }
            if decision.countsAsTry {
                state.verifyAttempts.append((verificationID, decision.outcome == .verified))
            }
            return decision
        }
    }

    package func resend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult {
        let now = clock.now
        return try state.withLock { state in
            guard var stored = state.verifications[verificationID], stored.new.appID == appID else {
                throw OTPFailure.verificationNotFound
            }
            var context = ResendContext(
                snapshot: stored.snapshot, channel: stored.channel, codeLength: stored.new.codeLength,
                sealedCode: stored.new.keepsSealedCode ? stored.new.sealedCode : nil, now: now,
                recipient: stored.new.recipient)
            context.transaction = stored.new.transaction
            let decided = try plan(context)
            try Self.charge(decided.charges, in: &state, now: now)
            stored.sends += 1
            stored.channel = decided.channel
            stored.new.country = decided.country
            stored.resendAvailableAt = now + TimeInterval(decided.resendCooldownSeconds)
            stored.deliveryStatus = .queued
            if let digest = decided.newCodeDigest { stored.codeDigest = digest }
            state.verifications[verificationID] = stored
            state.deliveries.append((verificationID, decided.channel, decided.sealedCode))
            state.events.append(
                Event(
                    kind: .resendRequested, appID: appID, verificationID: verificationID, actor: actor,
                    details: ["channel": decided.channel.rawValue], at: now))
            return stored.result
        }
    }

    package func report(verificationID: String, appID: String) async throws -> VerificationReport? {
        let now = clock.now
        return state.withLock { state in
            guard let stored = state.verifications[verificationID], stored.new.appID == appID else { return nil }
            return Self.report(stored, now: now)
        }
    }

    /// An audit event written by something other than a verification (a change in the dashboard).
    package func record(_ kind: EventKind, appID: String, actor: Caller, details: [String: String]) {
        let now = clock.now
        state.withLock { state in
            state.events.append(
                Event(kind: kind, appID: appID, verificationID: nil, actor: actor, details: details, at: now))
        }
    }

    package func recordRefusal(_ refusal: Refusal, appID: String, verificationID: String?, actor: Caller) async {
        let now = clock.now
        state.withLock { state in
            state.events.append(
                Event(
                    kind: refusal.eventKind, appID: appID, verificationID: verificationID, actor: actor,
                    details: refusal.details, at: now))
        }
    }

    package func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] {
        let now = clock.now
        return state.withLock { state in
            charges.map { charge in
                RateLimitStatus(
                    rule: charge.rule, scope: charge.rule.scope, limit: charge.limit,
                    used: state.counters[Self.counterKey(charge, now: now)] ?? 0,
                    resetAt: Self.windowEnd(charge, now: now))
            }
        }
    }

    package static func report(_ stored: Stored, now: Date) -> VerificationReport {
        let snapshot = stored.snapshot
        var report = VerificationReport(
            id: stored.new.id, appID: stored.new.appID, status: snapshot.effectiveStatus(now: now),
            channel: stored.channel, recipient: stored.new.recipient, attempts: stored.attempts,
            attemptsRemaining: snapshot.attemptsRemaining, sends: stored.sends, deliveryStatus: stored.deliveryStatus,
            createdAt: stored.createdAt, expiresAt: stored.expiresAt, verifiedAt: stored.verifiedAt,
            resendAvailableAt: stored.resendAvailableAt, test: stored.new.test)
        report.transaction = stored.new.transaction
        return report
    }

    /// All charges or none, like the PostgreSQL limiter's one statement.
    private static func charge(_ charges: [RateLimitCharge], in state: inout State, now: Date) throws {
        for charge in charges where (state.counters[counterKey(charge, now: now)] ?? 0) >= charge.limit {
            throw OTPFailure.rateLimited(
                rule: charge.rule.rawValue,
                retryAfterSeconds: max(1, Int(windowEnd(charge, now: now).timeIntervalSince(now).rounded(.up))))
        }
        for charge in charges { state.counters[counterKey(charge, now: now), default: 0] += 1 }
    }

    private static func windowStart(_ charge: RateLimitCharge, now: Date) -> Int {
        let window = charge.rule.windowSeconds
        return Int(now.timeIntervalSince1970) / window * window
    }

    private static func windowEnd(_ charge: RateLimitCharge, now: Date) -> Date {
        Date(timeIntervalSince1970: TimeInterval(windowStart(charge, now: now) + charge.rule.windowSeconds))
    }

    private static func counterKey(_ charge: RateLimitCharge, now: Date) -> String {
        "\(charge.rule.rawValue)/\(charge.scopeKey)/\(windowStart(charge, now: now))"
    }
}
