import Foundation
import HummingbirdTesting
import OTPCore
import OTPTesting
import PostgresNIO
import Testing

@testable import OTPPostgres

/// Group commit: sends that arrive together are written in one transaction, and each still gets
/// its own answer.
@Suite struct SendBatchTests {
    func request(_ world: TestApp, to recipient: String, limit: Int = 1, app: String? = nil)
        -> SendBatchStatement.Request
    {
        let new = NewVerification(
            id: Identifiers.verificationID(), appID: app ?? world.app.id, recipient: recipient, country: "BR",
            channel: .sms, sender: nil, locale: nil, codeDigest: Data(repeating: 1, count: 32),
            sealedCode: Data(repeating: 2, count: 40), keepsSealedCode: false, codeLength: 6, ttlSeconds: 300,
            maxAttempts: 5, maxSends: 5, resendCooldownSeconds: 30, metadata: ["order": recipient],
            message: QueuedMessage(
                template: "Your code is {{code}}", templateID: nil, templateVersion: nil, locale: "en",
                whatsAppTemplate: nil))
        return SendBatchStatement.Request(
            new: new,
            charges: [RateLimitCharge(rule: .recipient10m, scopeKey: "batch|" + recipient, limit: limit)],
            actor: Caller(keyID: world.keyID, ip: "203.0.113.9"))
    }

    func write(_ world: TestApp, _ requests: [SendBatchStatement.Request]) async -> [Result<SendResult, any Error>] {
        await outcomes(world, requests).map { $0.map(\.result) }
    }

    func outcomes(_ world: TestApp, _ requests: [SendBatchStatement.Request]) async
        -> [Result<SendOutcome, any Error>]
    {
        await PostgresVerificationStore.write(requests, client: world.runtimeClient, logger: quietLogger)
    }

    func keyed(_ world: TestApp, to recipient: String, key: String, digest: UInt8) async throws
        -> SendBatchStatement.Request
    {
        let account: Int64 = try await world.scalar("SELECT account_id FROM otp.apps WHERE id = \(world.app.id)")
        var keyed = request(world, to: recipient)
        keyed.idempotency = IdempotencyClaim(
            accountID: account, appID: world.app.id, key: key, requestDigest: Data(repeating: digest, count: 32))
        return keyed
    }

    func replayedID(_ answer: Result<SendOutcome, any Error>) throws -> String? {
        guard case .replayed(let result) = try answer.get() else { return nil }
        return result.verificationID
    }

    @Test func aBatchAnswersEachIdempotencyKeyOnItsOwn() async throws {
        try await awayFromWindowEnd(600)
        try await TestApp.with(ownDatabase: true) { world in
            let earlier = try await outcomes(world, [keyed(world, to: "+5511999000020", key: "k-used", digest: 1)])
            try await outcomes(world, [keyed(world, to: "+5511999000021", key: "k-other", digest: 2)])[0].get()
            let batch = [
                try await keyed(world, to: "+5511999000022", key: "k-new", digest: 3),
                try await keyed(world, to: "+5511999000023", key: "k-new", digest: 3),  // after the batch
                try await keyed(world, to: "+5511999000024", key: "k-used", digest: 1),  // the stored answer
                try await keyed(world, to: "+5511999000025", key: "k-other", digest: 9),  // another request
                request(world, to: "+5511999000026"),
                try await keyed(world, to: "+5511999000026", key: "k-refused", digest: 4),  // over the limit
            ]
            let answers = await outcomes(world, batch)
            let first = try answers[0].get()
            #expect(first == .created(first.result) && first.result.verificationID == batch[0].new.id)
            // Replayed from the stored answer (its times to the second, as the API writes them).
            #expect(try replayedID(answers[1]) == first.result.verificationID, "the same key and request")
            #expect(try replayedID(answers[2]) == (try earlier[0].get().result.verificationID))
            if case .failure(OTPFailure.idempotencyKeyReused) = answers[3] {
            } else {
                Issue.record("a key used for another request is refused: \(answers[3])")
            }
            #expect(try answers[4].get() == .created(try answers[4].get().result))
            if case .failure(OTPFailure.rateLimited(let rule, _)) = answers[5] {
                #expect(rule == "recipient_10m")
            } else {
                Issue.record("the second send to one number is refused by its limit: \(answers[5])")
            }
            let keys: [String] = try await world.scalar(
                """
                SELECT array_agg(split_part(key, '|', 2) || ' ' || (response_body IS NOT NULL)::text ORDER BY key)
                FROM otp.idempotency_keys WHERE key LIKE \(world.app.id + "|%")
                """)
            #expect(keys == ["k-new true", "k-other true", "k-used true"], "the refused send's key was taken back")
            let transactions: Int = try await world.scalar(
                "SELECT count(DISTINCT xmin::text)::int FROM otp.verifications WHERE id = ANY(\([batch[0].new.id, batch[4].new.id]))"
            )
            #expect(transactions == 1, "written together")
            let written: Int = try await world.scalar(
                "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
            #expect(written == 4, "two earlier, two in the batch: no replayed or refused send was written")
        }
    }

    @Test func aBatchRefusesOnlyTheSendOverItsLimit() async throws {
        try await awayFromWindowEnd(600)
        try await TestApp.with(ownDatabase: true) { world in
            let batch = [
                request(world, to: "+5511999000001"), request(world, to: "+5511999000001"),
                request(world, to: "+5511999000002"),
            ]
            let answers = await write(world, batch)
            #expect(try answers[0].get().verificationID == batch[0].new.id)
            #expect(throws: OTPFailure.self) { try answers[1].get() }
            if case .failure(OTPFailure.rateLimited(let rule, _)) = answers[1] {
                #expect(rule == "recipient_10m")
            } else {
                Issue.record("the second send to one number is refused by its limit: \(answers[1])")
            }
            #expect(try answers[2].get().deliveryStatus == .queued)
            let transactions: Int = try await world.scalar(
                "SELECT count(DISTINCT xmin::text)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
            let written: Int = try await world.scalar(
                "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
            #expect(written == 2 && transactions == 1, "two sends, one transaction")
            // The refused send's charge was given back: each counter holds one.
            let counts: [Int] = try await world.scalar(
                "SELECT array_agg(count ORDER BY scope_key) FROM otp.rate_limit_counters WHERE scope_key LIKE 'batch|%'"
            )
            #expect(counts == [1, 1])
            // Each written send is whole: its delivery with the sealed code, its two events.
            for new in [batch[0].new, batch[2].new] {
                let delivery: String = try await world.scalar(
                    """
                    SELECT d.state || ' ' || (d.sealed_code = \(new.sealedCode))::text || ' '
                        || (SELECT count(*) FROM otp.events e WHERE e.verification_id = d.verification_id)
                        || ' ' || (v.metadata ->> 'order')
                    FROM otp.deliveries d JOIN otp.verifications v ON v.id = d.verification_id
                    WHERE d.verification_id = \(new.id)
                    """)
                #expect(delivery == "queued true 2 \(new.recipient)")
            }
        }
    }

    @Test func aBatchThatFailsIsWrittenOneSendAtATime() async throws {
        try await awayFromWindowEnd(600)
        try await TestApp.with(ownDatabase: true) { world in
            // The middle one names an app that does not exist: its insert fails, and the batch with it.
            let batch = [
                request(world, to: "+5511999000011"), request(world, to: "+5511999000012", app: "app_missing"),
                request(world, to: "+5511999000013"),
            ]
            let answers = await write(world, batch)
            #expect(try answers[0].get().verificationID == batch[0].new.id)
            #expect(throws: (any Error).self) { try answers[1].get() }
            #expect(try answers[2].get().verificationID == batch[2].new.id)
            let transactions: Int = try await world.scalar(
                "SELECT count(DISTINCT xmin::text)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
            #expect(transactions == 2, "written one at a time, after the batch rolled back")
            let charged: Int = try await world.scalar(
                "SELECT coalesce(sum(count), 0)::int FROM otp.rate_limit_counters WHERE scope_key LIKE 'batch|%'")
            #expect(charged == 2, "nothing of the failed batch stayed")
        }
    }

    @Test func concurrentSendsShareTransactions() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<64 {
                        group.addTask {
                            let recipient = "+55119990" + String(format: "%05d", index)
                            return Int(
                                try await client.post(
                                    "/otp/send", RateLimitTests.body(world, recipient), headers: world.basicAuth
                                ).status.code)
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 202, count: 64))
                let (sends, transactions, whole): (Int, Int, Int) = try await {
                    for try await row in try await world.client.query(
                        """
                        SELECT count(*)::int, count(DISTINCT v.xmin::text)::int,
                            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM otp.deliveries d WHERE d.verification_id = v.id)
                                AND (SELECT count(*) FROM otp.events e WHERE e.verification_id = v.id
                                    AND e.event IN ('send_requested', 'delivery_queued')) = 2)::int
                        FROM otp.verifications v WHERE v.app_id = \(world.app.id)
                        """, logger: quietLogger
                    ).decode((Int, Int, Int).self) { return row }
                    throw TestFailure("no row")
                }()
                print("64 concurrent sends were written in \(transactions) transactions")
                #expect(sends == 64 && whole == 64)
                #expect(transactions < 64, "some sends shared a transaction")
            }
        }
    }
}

extension SendOutcome {
    fileprivate var result: SendResult {
        switch self {
        case .created(let result), .replayed(let result): result
        }
    }
}
