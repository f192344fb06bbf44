import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

/// Test numbers: a fixed code, no provider called, marked `test`, left out of reports.
@Suite struct TestNumberTests {
    static let number = "+14155550199"
    static let code = "246810"

    @Test func aTestNumberHasItsFixedCodeCallsNoProviderAndStaysOutOfReports() async throws {
        // A database of its own: the worker here would claim other suites' deliveries.
        try await TestApp.with(ownDatabase: true) { world in
            // Set the way an operator sets it: `otp apps update --test-number`.
            let update = try SpawnedProcess.start(
                ["apps", "update", world.app.id, "--test-number", "\(Self.number)=\(Self.code)", "--json"],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            let status = await update.waitForExit(seconds: 60)
            #expect(status == 0, "\(update.log)")
            #expect(update.log.contains(#""test_numbers":["\#(Self.number)"]"#), "\(update.log)")
            #expect(!update.log.contains(Self.code))
            let stored: String = try await world.scalar(
                "SELECT test_numbers::text FROM otp.apps WHERE id = \(world.app.id)")
            #expect(stored.contains(Self.number) && !stored.contains(Self.code), "the code is kept sealed")

            let provider = CapturingProvider()
            try await world.test { client in
                // The scripted code would be any other number's; the test number keeps its own.
                let test = try await world.send(client, code: "999999", recipient: Self.number)
                let real = try await world.send(client, code: "111111", recipient: "+5511999880001")
                try await runWorker(world, provider: provider) {
                    try await waitUntil {
                        for id in [test, real]
                        where try await world.status(client, id).json["delivery_status"] as? String != "sent" {
                            return false
                        }
                        return true
                    }
                }
                #expect(
                    provider.attempts.map(\.recipient) == ["+5511999880001"], "no provider call for the test number")
                #expect(try await world.status(client, test).json["test"] as? Bool == true)
                #expect(try await world.status(client, real).json["test"] as? Bool == false)
                let sentBy: String = try await world.scalar(
                    "SELECT provider FROM otp.deliveries WHERE verification_id = \(test)")
                #expect(sentBy == "test")
                #expect(try await world.verify(client, test, code: "999999").json["verified"] as? Bool == false)
                #expect(try await world.verify(client, test, code: Self.code).json["verified"] as? Bool == true)

                let logs = try await client.get(
                    "/otp/logs?appid=\(world.app.id)&verification_id=\(test)", headers: world.basicAuth)
                let items = try #require(logs.json["items"] as? [[String: Any]])
                #expect(!items.isEmpty && items.allSatisfy { $0["test"] as? Bool == true })
                let list = try await client.get("/otp/list?appid=\(world.app.id)", headers: world.basicAuth)
                let flags = (list.json["items"] as? [[String: Any]] ?? []).map { $0["test"] as? Bool }
                #expect(flags.sorted { ($0 ?? false) && !($1 ?? false) } == [true, false])

                // Reports, live and rolled up, count the real send only.
                let report = try await client.get("/otp/reports?appid=\(world.app.id)", headers: world.basicAuth)
                #expect((report.json["totals"] as? [String: Any])?["verifications"] as? Int == 1)
                let today = UTCDay.format(Date())
                _ = try await PostgresMaintenance(client: world.client, logger: quietLogger).rollup(days: [today])
                let rolled: Int = try await world.scalar(
                    "SELECT coalesce(sum(verifications), 0)::bigint FROM otp.daily_reports WHERE app_id = \(world.app.id)"
                )
                #expect(rolled == 1)
            }
        }
    }

    @Test func testNumberEntriesAreCheckedAndRemovable() throws {
        let sealer = CodeSealer(keys: try ServerKeys(base64: ServerKeys.generateSecret()))
        var policy = AppPolicy.default
        try TestNumbers.apply(["\(Self.number)=\(Self.code)"], to: &policy, sealer: sealer)
        #expect(try TestNumbers.code(for: Self.number, policy: policy, sealer: sealer) == Self.code)
        #expect(try TestNumbers.code(for: "+14155550100", policy: policy, sealer: sealer) == nil)
        for bad in ["14155550199=123456", "\(Self.number)=12ab56", "\(Self.number)=123", "\(Self.number)"] {
            #expect(throws: PolicyProblem.self, "\(bad)") { try TestNumbers.apply([bad], to: &policy, sealer: sealer) }
        }
        try TestNumbers.apply(["\(Self.number)="], to: &policy, sealer: sealer)
        #expect(policy.testNumbers.isEmpty)
    }
}
