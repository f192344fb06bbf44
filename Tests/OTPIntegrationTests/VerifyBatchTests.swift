import Foundation
import HummingbirdTesting
import OTPCore
import OTPTesting
import PostgresNIO
import Testing

@testable import OTPPostgres

/// Group commit for verifies, against PostgreSQL: verifies that arrive together are decided in one
/// transaction, each with its own answer; one on a verification or a recipient already in the batch
/// is decided after it; a batch that fails is decided again one verify at a time.
@Suite struct VerifyBatchTests {
    /// A wrong code on `verificationID`, judged by the core's rules.
    func wrongCode(
        _ world: TestApp, _ verificationID: String, gate: RateLimitCharge? = nil,
        storedAttempts: Int? = nil
    ) -> VerifyBatch.Request {
        VerifyBatch.Request(
            verificationID: verificationID, appID: world.app.id, actor: Caller(keyID: world.keyID, ip: "192.0.2.7"),
            gate: gate, onFailure: { _ in nil },
            decide: { locked in
                var decision = VerifyRules.decide(
                    locked.snapshot, guesses: locked.guesses, maxAttempts: 10, codeMatches: false,
                    recipientMatches: true, now: locked.now)
                if let storedAttempts { decision.attempts = storedAttempts }
                return decision
            })
    }

    func decide(_ world: TestApp, _ requests: [VerifyBatch.Request]) async -> [Result<VerifyDecision?, any Error>] {
        await PostgresVerificationStore.decide(requests, client: world.runtimeClient, logger: quietLogger)
    }

    /// Distinct transactions among the verify attempts of `ids`.
    func transactions(_ world: TestApp, _ ids: [String]) async throws -> Int {
        try await world.scalar(
            "SELECT count(DISTINCT xmin::text)::int FROM otp.verify_attempts WHERE verification_id = ANY(\(ids))")
    }

    @Test func aBatchDecidesEachVerifyOnItsOwnAndTheRepeatsAfterIt() async throws {
        try await awayFromWindowEnd(300)
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let first = try await world.send(client, code: "111111", recipient: "+5511999000101")
                let other = try await world.send(client, code: "222222", recipient: "+5511999000102")
                let sameRecipient = try await world.send(client, code: "333333", recipient: "+5511999000101")
                let gate = RateLimitCharge(rule: .verifyIP5m, scopeKey: "batch|gate", limit: 1)
                let answers = await decide(
                    world,
                    [
                        wrongCode(world, first, gate: gate),
                        wrongCode(world, other, gate: gate),  // the gate is full: refused, alone
                        wrongCode(world, first),  // the same verification: decided after the batch
                        wrongCode(world, sameRecipient),  // the same recipient: after the batch
                        wrongCode(world, Identifiers.verificationID()),
                    ])
                #expect(try answers[0].get()?.attempts == 1)
                #expect(try answers[0].get()?.outcome == .invalidCode)
                if case .failure(OTPFailure.rateLimited(let rule, _)) = answers[1] {
                    #expect(rule == "verify_ip_5m")
                } else {
                    Issue.record("the second verify through a full gate is refused: \(answers[1])")
                }
                #expect(try answers[2].get()?.attempts == 2, "decided after the first, seeing its attempt")
                #expect(try answers[3].get()?.attempts == 1)
                #expect(try answers[4].get() == nil, "no such verification")

                let wrongInRow: Int = try await world.scalar(
                    "SELECT wrong_in_row FROM otp.recipient_guesses WHERE recipient = '+5511999000101'")
                #expect(wrongInRow == 3, "each wrong code of the recipient counted, in order")
                let gateCount: Int = try await world.scalar(
                    "SELECT sum(count)::int FROM otp.rate_limit_counters WHERE scope_key = 'batch|gate'")
                #expect(gateCount == 1, "the refused verify's gate charge was given back")
                #expect(try await transactions(world, [first, other, sameRecipient]) == 3)
                let untouched: Int = try await world.scalar(
                    "SELECT attempts FROM otp.verifications WHERE id = \(other)")
                #expect(untouched == 0)
                let events: Int = try await world.scalar(
                    """
                    SELECT count(*)::int FROM otp.events WHERE event = 'verify_failed'
                    AND verification_id = ANY(\([first, sameRecipient]))
                    """)
                #expect(events == 3)
            }
        }
    }

    @Test func aBatchThatFailsIsDecidedOneVerifyAtATime() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let ids = [
                    try await world.send(client, recipient: "+5511999000111"),
                    try await world.send(client, recipient: "+5511999000112"),
                    try await world.send(client, recipient: "+5511999000113"),
                ]
                // The middle decision cannot be stored (attempts past the column's range): the
                // batch's record fails, and the batch with it.
                let answers = await decide(
                    world,
                    [
                        wrongCode(world, ids[0]), wrongCode(world, ids[1], storedAttempts: 3_000_000_000),
                        wrongCode(world, ids[2]),
                    ])
                #expect(try answers[0].get()?.attempts == 1)
                #expect(throws: (any Error).self) { try answers[1].get() }
                #expect(try answers[2].get()?.attempts == 1)
                #expect(try await transactions(world, ids) == 2, "decided one at a time, after the batch rolled back")
                let attempts: [Int] = try await world.scalar(
                    "SELECT array_agg(attempts::bigint ORDER BY recipient) FROM otp.verifications WHERE id = ANY(\(ids))"
                )
                #expect(attempts == [1, 0, 1], "nothing of the failed batch stayed")
            }
        }
    }

    @Test func concurrentVerifiesShareTransactions() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                var ids: [String] = []
                for index in 0..<48 {
                    ids.append(try await world.send(client, recipient: "+55119991" + String(format: "%05d", index)))
                }
                let codes = try await withThrowingTaskGroup(of: String?.self) { group in
                    for id in ids { group.addTask { try await world.verify(client, id, code: "000000").errorCode } }
                    return try await group.reduce(into: [String?]()) { $0.append($1) }
                }
                #expect(codes == Array(repeating: "INVALID_CODE", count: 48))
                let attempts: [Int] = try await world.scalar(
                    "SELECT array_agg(attempts::bigint) FROM otp.verifications WHERE id = ANY(\(ids))")
                #expect(attempts == Array(repeating: 1, count: 48))
                let shared = try await transactions(world, ids)
                print("48 concurrent verifies were decided in \(shared) transactions")
                #expect(shared < 48, "some verifies shared a transaction")
            }
        }
    }
}
