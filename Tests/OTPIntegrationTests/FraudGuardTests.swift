import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

/// The fraud guard on the one send path, its counts in PostgreSQL: a burst that never verifies is
/// refused (enforce) or flagged (monitor) after its floor; traffic that verifies is not.
@Suite struct FraudGuardTests {
    static func guarded(_ mode: FraudGuardSettings.Mode) -> @Sendable (inout AppPolicy) -> Void {
        { $0.fraud.mode = mode }
    }

    /// 40 sequential numbers of one block of 100,000 (`+55119874xxxxx`).
    static func burst(_ n: Int) -> String { "+5511987" + String(format: "%06d", 400_000 + n) }

    /// Sends the burst one after another; each answer's status and `error.rule`.
    static func sendBurst(_ world: TestApp, _ client: some TestClientProtocol, verifyEvery: Int? = nil) async throws
        -> [(status: Int, rule: String?)]
    {
        var answers: [(Int, String?)] = []
        for n in 0..<40 {
            world.codes.push("123456")
            let body = jsonBody(["appid": world.app.id, "recipient": Self.burst(n)])
            let response = try await client.post("/otp/send", body, headers: world.basicAuth)
            answers.append((response.status.code, (response.json["error"] as? [String: Any])?["rule"] as? String))
            if let every = verifyEvery, n % every == 0, let id = response.json["verification_id"] as? String {
                let verified = try await world.verify(client, id, code: "123456")
                #expect(verified.status == .ok)
            }
        }
        return answers
    }

    func count(_ world: TestApp, _ event: EventKind) async throws -> Int {
        try await world.scalar(
            "SELECT count(*)::int FROM otp.events WHERE app_id = \(world.app.id) AND event = \(event.rawValue)")
    }

    @Test func aBurstThatNeverVerifiesIsRefusedAfterItsFloorWithItsEvents() async throws {
        try await TestApp.with(configure: Self.guarded(.enforce)) { world in
            try await world.test { client in
                let answers = try await Self.sendBurst(world, client)
                // The block's floor is 10 unverified sends: the 11th is the first refused.
                #expect(answers.prefix(10).allSatisfy { $0.status == 202 }, "\(answers)")
                #expect(answers.dropFirst(10).allSatisfy { $0 == (403, "prefix") }, "\(answers)")
                let written: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                #expect(written == 10, "a refused send writes no verification and queues nothing")
                #expect(try await count(world, .fraudBlocked) == 30)
                let details: String = try await world.scalar(
                    """
                    SELECT details::text FROM otp.events WHERE app_id = \(world.app.id) AND event = 'fraud_blocked'
                    ORDER BY id LIMIT 1
                    """)
                for part in [
                    #""rule": "prefix""#, #""scope": "+55119874""#, #""sent_1h": "10""#, #""verified_1h": "0""#,
                ] {
                    #expect(details.contains(part), "\(details)")
                }
                let blocked: Int = try await world.scalar(
                    """
                    SELECT sum(blocked)::int FROM otp.fraud_daily WHERE app_id = \(world.app.id) AND scope = 'country:BR'
                    """)
                #expect(blocked == 30)
                // Today's report, computed live from the events.
                let report = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&group_by=country", headers: world.basicAuth)
                let rows = try #require(report.json["items"] as? [[String: Any]], "\(String(buffer: report.body))")
                let brazil = try #require(rows.first { $0["country"] as? String == "BR" })
                #expect(brazil["fraud_blocked"] as? Int == 30 && brazil["verifications"] as? Int == 10, "\(brazil)")
            }
        }
    }

    @Test func twoServerProcessesJudgeByTheSameCounts() async throws {
        try await TestApp.with(ownDatabase: true, configure: Self.guarded(.enforce)) { world in
            try await withServeProcesses(world) { ports, http in
                // The burst, each send to the other process than the one before.
                var codes: [UInt] = []
                for n in 0..<40 {
                    codes.append(try await postSend(world, http, port: ports[n % 2], recipient: Self.burst(n)))
                }
                #expect(codes.prefix(10).allSatisfy { $0 == 202 }, "\(codes)")
                #expect(codes.dropFirst(10).allSatisfy { $0 == 403 }, "\(codes)")
            }
        }
    }

    @Test func monitorSendsTheBurstAndFlagsWhatItWouldRefuse() async throws {
        try await TestApp.with(configure: Self.guarded(.monitor)) { world in
            try await world.test { client in
                let answers = try await Self.sendBurst(world, client)
                #expect(answers.allSatisfy { $0.status == 202 }, "\(answers)")
                #expect(try await count(world, .fraudFlagged) == 30)
                #expect(try await count(world, .fraudBlocked) == 0)
                let report = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&group_by=country&format=csv", headers: world.basicAuth)
                #expect(
                    String(buffer: report.body).contains("BR,40,0,0,0,0,0,0,,,0,30,"), "\(String(buffer: report.body))")
                let flaggedWithVerification: Int = try await world.scalar(
                    """
                    SELECT count(*)::int FROM otp.events e JOIN otp.verifications v ON v.id = e.verification_id
                    WHERE e.app_id = \(world.app.id) AND e.event = 'fraud_flagged'
                    """)
                #expect(flaggedWithVerification == 30)
            }
        }
    }

    @Test func aScopeHalfVerifiedIsNeverRefusedAtTheSameVolume() async throws {
        try await TestApp.with(configure: Self.guarded(.enforce)) { world in
            try await world.test { client in
                let answers = try await Self.sendBurst(world, client, verifyEvery: 2)
                #expect(answers.allSatisfy { $0.status == 202 }, "\(answers)")
                let verified: Int = try await world.scalar(
                    """
                    SELECT sum(verified)::int FROM otp.fraud_daily WHERE app_id = \(world.app.id) AND scope = 'prefix:+55119874'
                    """)
                #expect(verified == 20, "each verified code counts in its send's scopes")
                #expect(try await count(world, .fraudFlagged) + count(world, .fraudBlocked) == 0)
            }
        }
    }

    @Test func offJudgesAndCountsNothing() async throws {
        try await TestApp.with(configure: Self.guarded(.off)) { world in
            try await world.test { client in
                let answers = try await Self.sendBurst(world, client)
                #expect(answers.allSatisfy { $0.status == 202 })
                let counted: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.fraud_recent WHERE app_id = \(world.app.id)")
                #expect(counted == 0)
                #expect(try await count(world, .fraudFlagged) + count(world, .fraudBlocked) == 0)
            }
        }
    }

    @Test func allowedNumbersAndTestNumbersPass() async throws {
        try await TestApp.with(configure: Self.guarded(.enforce)) { world in
            // Set as an operator sets it, and read back as the CLI prints it.
            let update = try SpawnedProcess.start(
                [
                    "apps", "update", world.app.id, "--fraud-allow", "+5511987*", "--fraud-allow", "PT",
                    "--fraud-allow", "198.51.100.0/24", "--fraud-allow", "-PT", "--test-number", "+14155550199=246810",
                    "--json",
                ],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            #expect(await update.waitForExit(seconds: 60) == 0, "\(update.log)")
            #expect(update.log.contains(#""fraud_allow":["+5511987*","198.51.100.0/24"]"#), "\(update.log)")
            let refused = try SpawnedProcess.start(
                ["apps", "update", world.app.id, "--fraud-allow", "+12"],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            #expect(await refused.waitForExit(seconds: 60) == 1)
            #expect(refused.log.contains("--fraud-allow +12"), "\(refused.log)")

            try await world.test { client in
                let answers = try await Self.sendBurst(world, client)
                #expect(answers.allSatisfy { $0.status == 202 }, "the allowed block passes: \(answers)")
                for _ in 0..<20 {
                    let response = try await client.post(
                        "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+14155550199"]),
                        headers: world.basicAuth)
                    #expect(response.status == .accepted)
                }
                #expect(try await count(world, .fraudBlocked) == 0)
            }
        }
    }
}
