import Foundation
import HummingbirdTesting
import OTPAPI
import OTPCore
import OTPHTTP
import OTPTesting
import Testing

/// The contract's guessing limits, against PostgreSQL: no refusal makes a guess free.
@Suite struct GuessingLimitTests {
    static func limit(_ error: TestResponse) -> String? { (error.json["error"] as? [String: Any])?["limit"] as? String }

    @Test func aSpentFailureCapRefusesRightCodesAndRecordsEveryTry() async throws {
        try await TestApp.with(configure: { $0.rateLimits[RateLimitRule.verifyFailures1d.rawValue] = 3 }) { world in
            try await world.test { client in
                let id = try await world.send(client, code: "424242")
                for _ in 0..<3 {
                    #expect(try await world.verify(client, id, code: "000000").errorCode == "INVALID_CODE")
                }
                // The cap is spent: wrong and right codes alike are refused, and judge nothing.
                for code in ["000000", "111111", "424242", "000000"] {
                    let refused = try await world.verify(client, id, code: code)
                    #expect(refused.status == .tooManyRequests)
                    #expect(refused.errorCode == "RATE_LIMITED")
                    #expect(Self.limit(refused) == "verify_failures_1d")
                    #expect(refused.json["verified"] as? Bool == false)
                    #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
                }
                let status = try await world.status(client, id)
                #expect(status.json["status"] as? String == "pending")
                #expect(status.json["attempts"] as? Int == 3)
                let refusedTries: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verify_attempts WHERE verification_id = \(id) AND reason = 'rate_limited'"
                )
                #expect(refusedTries == 4, "each refused try is recorded")
                let events: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.events WHERE verification_id = \(id) AND event = 'rate_limited'")
                #expect(events == 4)
                // Across verifications: a new one for the same recipient is refused too.
                let next = try await world.send(client, code: "515151")
                #expect(try await world.verify(client, next, code: "515151").errorCode == "RATE_LIMITED")
                // Once the window is over, the right code works.
                try await world.client.query(
                    "DELETE FROM otp.rate_limit_counters WHERE rule = 'verify_failures_1d' AND scope_key LIKE \(world.app.id + "|%")",
                    logger: quietLogger)
                #expect(try await world.verify(client, next, code: "515151").status == .ok)
            }
        }
    }

    /// Two verifies of one recipient on different verifications, the second waiting for the
    /// first's lock on the recipient's guessing row: it must read the failure count the first
    /// left, not the one from before its wait, or both pass the cap.
    @Test func aVerifyThatWaitedForTheRecipientsLockSeesTheCapTheOtherSpent() async throws {
        try await awayFromWindowEnd(86_400, margin: 120)
        try await TestApp.with(configure: { $0.rateLimits[RateLimitRule.verifyFailures1d.rawValue] = 3 }) { world in
            try await world.test { client in
                let recipient = "+5511999773001"
                let first = try await world.send(client, code: "111111", recipient: recipient)
                for _ in 0..<2 {
                    #expect(try await world.verify(client, first, code: "000000").errorCode == "INVALID_CODE")
                }
                let second = try await world.send(client, code: "222222", recipient: recipient)
                let scope = world.app.id + "|" + recipient
                // The other verify: holds the recipient's row and charges the third failure, and
                // commits once this verify waits for the row.
                let (held, holding) = AsyncStream<Void>.makeStream()
                let answer = try await withThrowingTaskGroup(of: TestResponse?.self) { group in
                    group.addTask {
                        try await world.client.withTransaction(logger: quietLogger) { connection in
                            try await connection.query(
                                """
                                SELECT 1 FROM otp.recipient_guesses
                                WHERE app_id = \(world.app.id) AND recipient = \(recipient) FOR UPDATE
                                """, logger: quietLogger)
                            try await connection.query(
                                """
                                UPDATE otp.rate_limit_counters SET count = count + 1
                                WHERE rule = 'verify_failures_1d' AND scope_key = \(scope)
                                """, logger: quietLogger)
                            holding.yield()
                            try await waitUntil(seconds: 30) {
                                try await world.scalar(
                                    """
                                    SELECT count(*)::int FROM pg_stat_activity
                                    WHERE wait_event_type = 'Lock' AND query LIKE '%recipient_guesses%'
                                    """, as: Int.self) >= 1
                            }
                        }
                        return nil
                    }
                    for await _ in held { break }
                    group.addTask { try await world.verify(client, second, code: "000000") }
                    var answer: TestResponse?
                    for try await result in group { answer = answer ?? result }
                    return answer
                }
                let refused = try #require(answer)
                #expect(refused.status == .tooManyRequests, "\(String(buffer: refused.body))")
                #expect(Self.limit(refused) == "verify_failures_1d")
                let failures: Int = try await world.scalar(
                    "SELECT count::int FROM otp.rate_limit_counters WHERE rule = 'verify_failures_1d' AND scope_key = \(scope)"
                )
                #expect(failures == 3, "no failure past the cap")
            }
        }
    }

    @Test func theWaitGrowsAfterALockedVerificationAndARightCodeEndsIt() async throws {
        try await TestApp.with(configure: { $0.maxAttempts = 2 }) { world in
            try await world.test { client in
                let first = try await world.send(client, code: "101010")
                #expect(try await world.verify(client, first, code: "000000").errorCode == "INVALID_CODE")
                #expect(try await world.verify(client, first, code: "000000").errorCode == "MAX_ATTEMPTS_EXCEEDED")

                // Two wrong in a row reached max_attempts: the next verification waits 30 s.
                let second = try await world.send(client, code: "202020")
                let early = try await world.verify(client, second, code: "202020")
                #expect(early.status == .tooManyRequests)
                #expect(Self.limit(early) == "verify_backoff")
                let wait = Int(early.headers[.retryAfter] ?? "") ?? 0
                #expect((25...30).contains(wait), "Retry-After \(wait)")
                #expect(try await world.status(client, second).json["attempts"] as? Int == 0)

                // After the wait one more wrong code is judged, and the next wait doubles.
                try await moveLastWrong(world, secondsAgo: 31)
                #expect(try await world.verify(client, second, code: "000000").errorCode == "INVALID_CODE")
                let doubled = try await world.verify(client, second, code: "202020")
                #expect(Self.limit(doubled) == "verify_backoff")
                #expect((55...60).contains(Int(doubled.headers[.retryAfter] ?? "") ?? 0))

                try await moveLastWrong(world, secondsAgo: 61)
                #expect(try await world.verify(client, second, code: "202020").status == .ok)
                // The right code ended the run: a new verification is not slowed.
                let third = try await world.send(client, code: "303030")
                #expect(try await world.verify(client, third, code: "000000").errorCode == "INVALID_CODE")
            }
        }
    }

    func moveLastWrong(_ world: TestApp, secondsAgo seconds: Double) async throws {
        try await world.client.query(
            """
            UPDATE otp.recipient_guesses SET last_wrong_at = now() - make_interval(secs => \(seconds))
            WHERE app_id = \(world.app.id)
            """, logger: quietLogger)
    }

    @Test func aDifferentRecipientIsNotFoundWhateverTheState() async throws {
        try await TestApp.with(configure: { $0.maxAttempts = 2 }) { world in
            try await world.test { client in
                let other = "+5511988887777"
                let verified = try await world.send(client, code: "121212", recipient: "+5511999888001")
                #expect(try await world.verify(client, verified, code: "121212").status == .ok)
                let afterSuccess = try await world.verify(client, verified, code: "121212", recipient: other)
                #expect(afterSuccess.status == .notFound)
                #expect(afterSuccess.json["status"] == nil, "the answer tells nothing of the state")

                let pending = try await world.send(client, code: "343434", recipient: "+5511999888002")
                #expect(try await world.verify(client, pending, code: "343434", recipient: other).status == .notFound)
                #expect(try await world.status(client, pending).json["attempts"] as? Int == 1, "it costs a try")
                #expect(try await world.verify(client, pending, code: "343434", recipient: other).status == .notFound)
                #expect(try await world.status(client, pending).json["status"] as? String == "locked")
                #expect(try await world.verify(client, pending, code: "343434", recipient: other).status == .notFound)
                #expect(try await world.verify(client, pending, code: "343434").errorCode == "MAX_ATTEMPTS_EXCEEDED")
            }
        }
    }

    @Test func ipv6ClientsCountByTheirSlash64AndBadHopsAreIgnored() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: RateLimitTests.only([.ip5m: 1])) { world in
            @Sendable func send(_ client: any TestClientProtocol, from forwarded: String, _ recipient: String)
                async throws -> TestResponse
            {
                var headers = world.basicAuth
                headers[.init("X-Forwarded-For")!] = forwarded
                return try await client.post("/otp/send", RateLimitTests.body(world, recipient), headers: headers)
            }
            try await world.test(.live, trustedProxies: TrustedProxies("10.0.0.0/8, 127.0.0.0/8, fd00::/8")) { client in
                #expect(try await send(client, from: "2001:db8:1:2::1", "+5511999888011").status == .accepted)
                let sameNetwork = try await send(client, from: "2001:db8:1:2:ffff::9", "+5511999888012")
                #expect(sameNetwork.status == .tooManyRequests, "one /64 is one client")
                #expect(try await send(client, from: "2001:db8:1:3::1", "+5511999888013").status == .accepted)
                // An IPv6 proxy of the operator's is passed over; the client before it counts.
                #expect(try await send(client, from: "2001:db8:9::1, fd00::5", "+5511999888014").status == .accepted)
                // A hop that is no address is not believed: the trusted peer counts, once.
                #expect(try await send(client, from: "not-an-address", "+5511999888015").status == .accepted)
                #expect(try await send(client, from: "also-not, 10.1.2.3", "+5511999888016").status == .tooManyRequests)
            }
        }
    }
}
