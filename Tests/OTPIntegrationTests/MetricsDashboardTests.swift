import AsyncHTTPClient
import Foundation
import NIOCore
import OTPPostgres
import OTPTesting
import Testing

/// `deploy/grafana/otp.json` against what `otp serve` and `otp work` really serve on `/metrics`:
/// every metric a panel queries exists once the service has done each kind of work.
@Suite struct MetricsDashboardTests {
    static let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/grafana/otp.json")

    /// The metric names in the dashboard's queries.
    static func queriedMetrics() throws -> Set<String> {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboard)) as? [String: Any]
        let panels = try #require(json?["panels"] as? [[String: Any]])
        var names = Set<String>()
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expression = try #require(target["expr"] as? String)
                let matches = expression.matches(of: /otp_[a-z0-9_]+/).map { String($0.output) }
                #expect(!matches.isEmpty, "\(expression) queries no otp metric")
                names.formUnion(matches)
            }
        }
        return names
    }

    /// The metric names in a `/metrics` answer.
    static func served(_ text: String) -> Set<String> {
        Set(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
                $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
            })
    }

    @Test func everyMetricTheDashboardQueriesIsServed() async throws {
        let queried = try Self.queriedMetrics()
        #expect(queried.count >= 10)
        // Its own database: the worker would claim the other tests' deliveries on the shared one.
        try await TestApp.with(ownDatabase: true, configure: { $0.rateLimits["recipient_10m"] = 1 }) { world in
            try await FakeAppReceiver.run { receiver in
                try await AppWebhookTests.pointWebhook(world, at: receiver)
                let (port, metricsPort) = (try EmbeddedPostgres.freePort(), try EmbeddedPostgres.freePort())
                let environment = [
                    "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey,
                    "OTP_HTTP_ADDRESS": "127.0.0.1:\(port)", "OTP_LOG_LEVEL": "warning",
                    "OTP_SMS_PROVIDERS": "console", "OTP_ALLOW_CONSOLE_PROVIDER": "1",
                    "OTP_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                ]
                let server = try SpawnedProcess.start(["serve"], environment: environment)
                var workEnvironment = environment
                workEnvironment["OTP_METRICS_ADDRESS"] = "127.0.0.1:\(metricsPort)"
                let worker = try SpawnedProcess.start(["work"], environment: workEnvironment)
                defer {
                    server.stop()
                    worker.stop()
                }
                try await withHTTPClient { http in
                    @Sendable func get(_ url: String) async throws -> (status: UInt, body: String) {
                        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
                        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
                    }
                    // Generous waits: the full suite runs this beside its heaviest tests on two cores.
                    try await waitUntil(seconds: 90) {
                        let ready = try? await get("http://127.0.0.1:\(port)/readyz")
                        let metrics = try? await get("http://127.0.0.1:\(metricsPort)/metrics")
                        return ready?.status == 200 && metrics?.status == 200
                    }
                    // A send, one the limit refuses, and a wrong code: every kind of work the panels show.
                    try await awayFromWindowEnd()  // the two sends in one window of the limit
                    #expect(try await postSend(world, http, port: port, recipient: "+5511987650001") == 202)
                    #expect(try await postSend(world, http, port: port, recipient: "+5511987650001") == 429)
                    _ = try await postJSON(
                        world, http, port: port, path: "/otp/verify",
                        [
                            "appid": world.app.id, "verification_id": "otp_01hzx4a7b2c3d4e5f6g7h8j9k0",
                            "otp_code": "000000",
                        ])
                    do {
                        try await waitUntil(seconds: 90) { !receiver.events.isEmpty }
                    } catch {
                        Issue.record("no status webhook arrived; otp work's log:\n\(worker.log.suffix(4000))")
                        throw error
                    }

                    @Sendable func missing() async throws -> Set<String> {
                        let api = try await get("http://127.0.0.1:\(port)/metrics").body
                        let work = try await get("http://127.0.0.1:\(metricsPort)/metrics").body
                        return queried.subtracting(Self.served(api).union(Self.served(work)))
                    }
                    // The worker's counters appear once it has delivered and posted the webhook.
                    try? await waitUntil(seconds: 90) { try await missing().isEmpty }
                    let left = try await missing()
                    #expect(left.isEmpty, "queried by the dashboard, served by neither process: \(left.sorted())")
                }
            }
        }
    }
}
