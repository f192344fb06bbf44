import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPCore
import OTPTesting
import PostgresNIO
import Testing

/// The management lists and the audit trail.
@Suite struct ManagementTests {
    func walk(
        _ world: TestApp, _ client: some TestClientProtocol, path: String, limit: Int,
        between: @Sendable () async throws -> Void = {}
    ) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String? = nil
        repeat {
            var uri = "\(path)?appid=\(world.app.id)&limit=\(limit)"
            if let cursor { uri += "&cursor=\(cursor)" }
            let response = try await client.get(uri, headers: world.basicAuth)
            try #require(response.status == .ok, "\(String(buffer: response.body))")
            items += try #require(response.json["items"] as? [[String: Any]])
            cursor = response.json["next_cursor"] as? String
            try await between()
        } while cursor != nil
        return items
    }

    @Test func walkingTheListSeesEveryRowOnceWhileNewOnesArrive() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                var ids: [String] = []
                for _ in 0..<25 { ids.append(try await world.send(client)) }
                let items = try await walk(world, client, path: "/otp/list", limit: 7) {
                    _ = try await world.send(client)
                }
                let seen = items.compactMap { $0["verification_id"] as? String }
                #expect(Set(seen).count == seen.count, "no row twice")
                #expect(Set(ids).isSubset(of: Set(seen)), "every row that existed when the walk began")
                let times = items.compactMap { $0["created_at"] as? String }
                #expect(times == times.sorted(by: >), "newest first")
                #expect(items.first?["recipient"] as? String == "+*********8777")
            }
        }
    }

    @Test func listFilters() async throws {
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 0 }) { world in
            try await world.test { client in
                let verified = try await world.send(client, code: "111222", recipient: "+5511999880001")
                _ = try await world.verify(client, verified, code: "111222")
                let whatsapp = try await world.send(client, recipient: "+5511999880002", extra: ["channel": "whatsapp"])
                let expired = try await world.send(client, recipient: "+5511999880003")
                try await world.setExpiry(expired, secondsFromNow: -1)
                let base = "/otp/list?appid=\(world.app.id)"
                func ids(_ query: String) async throws -> [String] {
                    let response = try await client.get(base + query, headers: world.basicAuth)
                    #expect(response.status == .ok, "\(query)")
                    return (response.json["items"] as? [[String: Any]] ?? []).compactMap {
                        $0["verification_id"] as? String
                    }
                }
                #expect(try await ids("&status=verified") == [verified])
                #expect(try await ids("&status=expired") == [expired])
                #expect(try await ids("&status=pending") == [whatsapp])
                #expect(try await ids("&channel=whatsapp") == [whatsapp])
                #expect(try await ids("&recipient=%2B55%2011%2099988-0001") == [verified])
                #expect(try await ids("&from=2999-01-01T00:00:00Z").isEmpty)
                #expect(try await ids("&to=2000-01-01T00:00:00Z").isEmpty)
                #expect(Set(try await ids("&from=2000-01-01T00:00:00Z")) == [verified, whatsapp, expired])
                for bad in ["&status=nope", "&limit=0", "&limit=1001", "&limit=x", "&from=yesterday", "&cursor=%%%"] {
                    let response = try await client.get(base + bad, headers: world.basicAuth)
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(response.errorCode == "VALIDATION_ERROR", "\(bad)")
                }
            }
        }
    }

    @Test func aKeyNeverSeesAnotherAccountsOrAnotherAppsRows() async throws {
        try await TestApp.with { world in
            let sibling = try await world.sibling()
            try await TestApp.with { other in
                try await other.test { client in _ = try await other.send(client) }
            }
            try await world.test { client in
                let mine = try await world.send(client)
                // A row in the same account, in an app this key may not use.
                try await world.client.query(
                    """
                    INSERT INTO otp.verifications (id, app_id, recipient, channel, code_length, ttl_seconds,
                        max_attempts, max_sends, expires_at, resend_available_at)
                    VALUES (\(Identifiers.verificationID()), \(sibling.id), '+5511999888777', 'sms', 6, 300, 5, 5,
                        now() + interval '5 minutes', now())
                    """, logger: quietLogger)
                for path in ["/otp/list", "/otp/logs", "/otp/attempts"] {
                    let response = try await client.get("\(path)?limit=1000", headers: world.basicAuth)
                    #expect(response.status == .ok)
                    let apps = Set(
                        (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["appid"] as? String })
                    #expect(apps.isSubset(of: [world.app.id]), "\(path): \(apps)")
                }
                let all = try await client.get("/otp/list?limit=1000", headers: world.basicAuth)
                #expect((all.json["items"] as? [[String: Any]])?.count == 1)
                #expect((all.json["items"] as? [[String: Any]])?.first?["verification_id"] as? String == mine)
                let forbidden = try await client.get("/otp/list?appid=\(sibling.id)", headers: world.basicAuth)
                #expect(forbidden.errorCode == "APP_FORBIDDEN")
            }
        }
    }

    @Test func logsAndAttemptsTellTheStory() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client, code: "909090")
                try await runWorker(world, provider: provider, configuration: WorkerTests.fastRetries) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "sent"
                    }
                }
                _ = try await world.verify(client, id, code: "000000")
                _ = try await world.verify(client, id, code: "909090")

                let logs = try await client.get(
                    "/otp/logs?appid=\(world.app.id)&verification_id=\(id)", headers: world.basicAuth)
                let events = (logs.json["items"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
                #expect(
                    events == [
                        "verify_succeeded", "verify_failed", "delivery_sent", "delivery_queued", "send_requested",
                    ])
                let first = try #require((logs.json["items"] as? [[String: Any]])?.last)
                #expect(first["actor"] as? String == world.keyID)
                let filtered = try await client.get(
                    "/otp/logs?appid=\(world.app.id)&event=verify_failed", headers: world.basicAuth)
                #expect((filtered.json["items"] as? [[String: Any]])?.count == 1)

                let attempts = try await client.get("/otp/attempts?verification_id=\(id)", headers: world.basicAuth)
                let items = attempts.json["items"] as? [[String: Any]] ?? []
                #expect(items.map { $0["kind"] as? String } == ["verify", "verify", "delivery"])
                #expect(items[0]["success"] as? Bool == true)
                #expect(items[1]["success"] as? Bool == false)
                #expect(items[2]["provider"] as? String == "capture" && items[2]["outcome"] as? String == "accepted")
                let onlyDeliveries = try await client.get(
                    "/otp/attempts?appid=\(world.app.id)&recipient=%2B5511999888777&kind=delivery",
                    headers: world.basicAuth)
                #expect((onlyDeliveries.json["items"] as? [[String: Any]])?.count == 1)
                for body in [logs.body, attempts.body] { #expect(!String(buffer: body).contains("909090")) }
            }
        }
    }

    @Test func eventsAreAppendOnly() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client)
                await #expect(throws: (any Error).self) {
                    try await world.client.query(
                        "UPDATE otp.events SET event = 'tampered' WHERE verification_id = \(id)", logger: quietLogger)
                }
                await #expect(throws: (any Error).self) {
                    try await world.client.query(
                        "DELETE FROM otp.events WHERE verification_id = \(id)", logger: quietLogger)
                }
                let count: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.events WHERE verification_id = \(id)")
                #expect(count == 2)
            }
        }
    }
}
