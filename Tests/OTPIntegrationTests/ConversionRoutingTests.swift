import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import OTPWorker
import Testing

/// Routing by conversion through the real worker and PostgreSQL's figures: two SMS providers, one
/// of whose codes are never verified in Brazil.
@Suite struct ConversionRoutingIntegrationTests {
    @Test func aCountryWhoseCodesAreNeverVerifiedMovesToTheOtherProviderAndNoOtherCountryDoes() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let alpha = CapturingProvider(name: "alpha")
            let beta = CapturingProvider(name: "beta")
            var rules = ConversionRouting()
            rules.verifyGrace = .zero  // the test types its codes in at once
            let routes = ConversionRoutes(
                rules: rules,
                source: PostgresConversionFigures(client: world.runtimeClient, logger: world.logs.logger("routes")),
                refreshInterval: .milliseconds(100), logger: world.logs.logger("routes"))
            let chains = ProviderChains([.sms: [alpha, beta]], routes: routes)
            let fast = DeliveryWorker.Configuration(pollInterval: .milliseconds(50))
            try await world.test { client in
                try await runWorker(world, chains: chains, configuration: fast) {
                    for batch in 0..<6 {
                        var sent: [(id: String, recipient: String, code: String)] = []
                        for index in (batch * 10)..<(batch * 10 + 10) {
                            for recipient in [
                                "+551199" + String(1_000_000 + index), "+1415555" + String(format: "%04d", 100 + index),
                            ] {
                                let code = String(100_000 + index)
                                sent.append(
                                    (try await world.send(client, code: code, recipient: recipient), recipient, code))
                            }
                        }
                        try await waitUntil(seconds: 30) {
                            alpha.messages.count + beta.messages.count == (batch + 1) * 20
                        }
                        for send in sent {
                            let carrier = alpha.messages.contains { $0.recipient == send.recipient } ? "alpha" : "beta"
                            // The user in Brazil never gets alpha's codes; everyone else types theirs in.
                            if carrier == "beta" || send.recipient.hasPrefix("+1") {
                                #expect(try await world.verify(client, send.id, code: send.code).status == .ok)
                            }
                        }
                        try await Task.sleep(for: .milliseconds(300))  // a refresh of the figures
                    }
                }
            }
            // recipient → the provider that carried its code
            let carried: [String] = try await world.rows(
                """
                SELECT v.recipient || ' ' || a.provider FROM otp.delivery_attempts a
                JOIN otp.verifications v ON v.id = a.verification_id WHERE a.app_id = \(world.app.id)
                """)
            let firstProvider = Dictionary(
                carried.map {
                    ($0.prefix { $0 != " " }.description, $0.split(separator: " ").last.map(String.init) ?? "")
                },
                uniquingKeysWith: { first, _ in first })
            func share(_ provider: String, prefix: String, from: Int) -> Int {
                (from..<60).filter { index in
                    let recipient =
                        prefix == "+55"
                        ? "+551199" + String(1_000_000 + index) : "+1415555" + String(format: "%04d", 100 + index)
                    return firstProvider[recipient] == provider
                }.count
            }
            // Brazil: alpha leads until it has had 20 sends there, then beta (but for the explored share).
            #expect(
                share("beta", prefix: "+55", from: 40) >= 16,
                "beta carried \(share("beta", prefix: "+55", from: 40)) of Brazil's last 20")
            #expect(share("alpha", prefix: "+55", from: 0) >= 20)
            // The United States: alpha converts there and keeps it.
            #expect(
                share("alpha", prefix: "+1", from: 0) >= 50,
                "alpha carried \(share("alpha", prefix: "+1", from: 0)) of 60 US sends")
            // The decisions are in the attempts, and in the report by provider.
            let providers: [String] = try await world.rows(
                "SELECT DISTINCT provider FROM otp.delivery_attempts WHERE app_id = \(world.app.id) ORDER BY 1")
            #expect(providers == ["alpha", "beta"])
            let alphaUS = share("alpha", prefix: "+1", from: 0)
            let alphaBR = share("alpha", prefix: "+55", from: 0)
            try await world.test { client in
                let report = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&group_by=provider", headers: world.basicAuth)
                #expect(report.status == .ok)
                let rows = try #require(report.json["items"] as? [[String: Any]])
                let byProvider = Dictionary(
                    rows.map { (($0["provider"] as? String) ?? "", $0) }, uniquingKeysWith: { first, _ in first })
                #expect(byProvider.keys.sorted() == ["alpha", "beta"])
                #expect(byProvider["alpha"]?["sent"] as? Int == alphaUS + alphaBR)
                #expect(
                    byProvider["alpha"]?["verified"] as? Int == alphaUS, "alpha's codes in Brazil were never typed in")
                #expect(byProvider["beta"]?["sent"] as? Int == 120 - alphaUS - alphaBR)
                #expect(byProvider["beta"]?["verified"] as? Int == 120 - alphaUS - alphaBR)
                #expect((report.json["totals"] as? [String: Any])?["verifications"] as? Int == 120)
            }
            // The nightly rollup stores the same rows.
            let today = UTCDay.format(Date())
            _ = try await PostgresMaintenance(client: world.client, logger: quietLogger).rollup(days: [today])
            let rolled: [String] = try await world.rows(
                """
                SELECT provider || ' ' || sum(sent) || ' ' || sum(verified) FROM otp.daily_provider_reports
                WHERE app_id = \(world.app.id) GROUP BY provider ORDER BY provider
                """)
            #expect(
                rolled == [
                    "alpha \(alphaUS + alphaBR) \(alphaUS)",
                    "beta \(120 - alphaUS - alphaBR) \(120 - alphaUS - alphaBR)",
                ])
        }
    }
}
