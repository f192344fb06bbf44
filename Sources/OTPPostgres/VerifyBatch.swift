import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Verifies decided together in the caller's transaction (migration 0018): one statement locks every
/// verification, one locks the recipients' guessing rows, the core decides each, and one records
/// every decision. A verify alone is a batch of one.
///
/// A request on a verification or a recipient already in the batch is not decided here: its
/// decision depends on the one before it, so it is `deferred`, to be decided on its own once this
/// transaction has committed (its gate already charged when it was locked here).
struct VerifyBatch {
    struct Request: Sendable {
        var verificationID: String
        var appID: String
        var actor: Caller
        var gate: RateLimitCharge?
        var onFailure: @Sendable (_ recipient: String) -> RateLimitCharge?
        var decide: @Sendable (VerifyContext) -> VerifyDecision
    }

    enum Answer {
        case decided(Result<VerifyDecision?, OTPFailure>)
        case deferred(Request)
    }

    var requests: [Request]

    func run(on connection: PostgresConnection, logger: Logger) async throws -> [Answer] {
        var answers = [Answer?](repeating: nil, count: requests.count)
        var seenVerifications = Set<String>()
        var toLock: [Int] = []
        for (n, request) in requests.enumerated() {
            if seenVerifications.insert(request.verificationID).inserted {
                toLock.append(n)
            } else {
                answers[n] = .deferred(request)
            }
        }
        let locked = try await lock(toLock, on: connection, logger: logger)
        // The verifications found, each with its failure counter; a second one of a recipient waits.
        var toDecide: [(n: Int, locked: LockedVerification, failureCounter: RateLimitCharge?)] = []
        var seenRecipients = Set<GuessKey>()
        for n in toLock {
            switch locked[n] {
            case nil: throw PostgresStoreError.noRowReturned  // every request has its row
            case .refused(let failure): answers[n] = .decided(.failure(failure))
            case .missing: answers[n] = .decided(.success(nil))
            case .found(let verification):
                let request = requests[n]
                if seenRecipients.insert(GuessKey(appID: request.appID, recipient: verification.recipient)).inserted {
                    toDecide.append((n, verification, request.onFailure(verification.recipient)))
                } else {
                    var later = request
                    later.gate = nil
                    answers[n] = .deferred(later)
                }
            }
        }
        let guesses = try await lockGuesses(
            toDecide.map { (GuessKey(appID: requests[$0.n].appID, recipient: $0.locked.recipient), $0.failureCounter) },
            on: connection, logger: logger)
        var records: [RecordRow] = []
        for (index, item) in toDecide.enumerated() {
            let request = requests[item.n]
            var context = VerifyContext(
                snapshot: item.locked.snapshot, recipient: item.locked.recipient,
                codeDigest: item.locked.codeDigest, guesses: guesses[index], now: item.locked.now)
            context.transaction = item.locked.transaction
            let decision = request.decide(context)
            answers[item.n] = .decided(.success(decision))
            records.append(
                RecordRow(
                    n: item.n, request: request, recipient: item.locked.recipient, decision: decision,
                    failureCounter: item.failureCounter,
                    events: decision.events(before: item.locked.snapshot.status)))
        }
        // The refusals by the guessing limits are committed with the rest: a caller who fills a
        // limit on purpose gains nothing.
        if !records.isEmpty {
            let decisions = String(decoding: try JSONEncoder().encode(records), as: UTF8.self)
            let statement = RecordVerifiesStatement(
                decisions: decisions, verificationIDs: records.map(\.id), appIDs: records.map(\.appID),
                recipients: records.map(\.recipient))
            for try await recorded in try await connection.execute(statement, logger: logger)
            where recorded != records.count {
                throw PostgresStoreError.noRowReturned
            }
        }
        return try answers.map { answer in
            guard let answer else { throw PostgresStoreError.noRowReturned }
            return answer
        }
    }

    private enum Locked {
        case refused(OTPFailure)
        case missing
        case found(LockedVerification)
    }

    /// Charges the gates and locks the verifications of the requests at `places`.
    private func lock(_ places: [Int], on connection: PostgresConnection, logger: Logger) async throws -> [Int: Locked]
    {
        let rows = places.map { LockRow(n: $0, request: requests[$0]) }
        let body = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        var locked: [Int: Locked] = [:]
        let answers = try await connection.execute(LockVerifiesStatement(requests: body), logger: logger)
        for try await row in answers {
            let columns = row.makeRandomAccess()
            let n: Int = try columns.value("n")
            guard requests.indices.contains(n) else { throw PostgresStoreError.noRowReturned }
            if let refused: String = try columns.value("refused") {
                locked[n] = .refused(PostgresRateLimiter.refusal(refused))
            } else if try columns.value("found", Bool.self) {
                locked[n] = .found(try LockedVerification(columns))
            } else {
                locked[n] = .missing
            }
        }
        return locked
    }

    /// Locks each recipient's guessing row (made on first use, in one order) and reads it, then the
    /// recipient's wrong codes in `verify_failures_1d`'s current window (after the lock: see
    /// `FailureCountsStatement`).
    private func lockGuesses(
        _ wanted: [(key: GuessKey, failureCounter: RateLimitCharge?)], on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [RecipientGuesses] {
        guard !wanted.isEmpty else { return [] }
        let statement = LockGuessesStatement(
            appIDs: wanted.map(\.key.appID), recipients: wanted.map(\.key.recipient))
        var rows: [GuessKey: (wrongInRow: Int, lastWrongAt: Date?)] = [:]
        for try await row in try await connection.execute(statement, logger: logger) {
            rows[GuessKey(appID: row.appID, recipient: row.recipient)] = (row.wrongInRow, row.lastWrongAt)
        }
        var failures: [String: Int] = [:]
        var windowEnd = Date.distantFuture
        let counts = FailureCountsStatement(failureKeys: wanted.compactMap(\.failureCounter?.scopeKey))
        for try await row in try await connection.execute(counts, logger: logger) {
            windowEnd = row.windowEnd
            if let failureKey = row.failureKey { failures[failureKey] = row.failures }
        }
        return try wanted.map { want in
            guard let row = rows[want.key] else { throw PostgresStoreError.noRowReturned }
            return RecipientGuesses(
                failuresInWindow: want.failureCounter.flatMap { failures[$0.scopeKey] } ?? 0,
                failureLimit: want.failureCounter?.limit, failureWindowEndsAt: windowEnd,
                wrongInRow: row.wrongInRow, lastWrongAt: row.lastWrongAt)
        }
    }

    struct GuessKey: Hashable {
        var appID: String
        var recipient: String
    }

    /// One request as `otp.lock_verify_batch` reads it.
    private struct LockRow: Encodable {
        var n: Int
        var id, appID: String
        var gateRule, gateKey: String?
        var gateMax, gateWindow: Int?

        enum CodingKeys: String, CodingKey {
            case n, id
            case appID = "app_id"
            case gateRule = "gate_rule"
            case gateKey = "gate_key"
            case gateMax = "gate_max"
            case gateWindow = "gate_window"
        }

        init(n: Int, request: Request) {
            self.n = n
            (id, appID) = (request.verificationID, request.appID)
            (gateRule, gateKey) = (request.gate?.rule.rawValue, request.gate?.scopeKey)
            (gateMax, gateWindow) = (request.gate?.limit, request.gate?.rule.windowSeconds)
        }
    }

    /// One decision as `otp.record_verify_batch` reads it.
    private struct RecordRow: Encodable {
        var n: Int
        var id, appID, recipient, status: String
        var attempts: Int
        var verified: Bool
        var outcome: String
        var counts: Bool
        var ip: String?
        var actor: String
        var events: [String]
        var guesses, failureKey: String
        var failureMax: Int
        var refusedBy: String

        enum CodingKeys: String, CodingKey {
            case n, id, recipient, status, attempts, verified, outcome, counts, ip, actor, events, guesses
            case appID = "app_id"
            case failureKey = "failure_key"
            case failureMax = "failure_max"
            case refusedBy = "refused_by"
        }

        init(
            n: Int, request: Request, recipient: String, decision: VerifyDecision, failureCounter: RateLimitCharge?,
            events: [EventKind]
        ) {
            self.n = n
            (id, appID, self.recipient) = (request.verificationID, request.appID, recipient)
            (status, attempts) = (decision.status.rawValue, decision.attempts)
            verified = decision.outcome == .verified
            outcome = decision.outcome.rawValue
            counts = decision.countsAsTry
            (ip, actor) = (request.actor.ip, request.actor.keyID)
            self.events = events.map(\.rawValue)
            guesses = decision.guesses.rawValue
            failureKey = failureCounter?.scopeKey ?? ""
            failureMax = failureCounter?.limit ?? 0
            refusedBy = decision.refusal?.rule ?? ""
        }
    }
}
