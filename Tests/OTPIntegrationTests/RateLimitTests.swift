import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OTPAPI
import OTPCore
import OTPHTTP
import OTPPostgres
import OTPTesting
import Testing

/// The limits, counted in PostgreSQL: exact under concurrency, per rule, per scope.
@Suite struct RateLimitTests {
    /// Every rule off but the ones given.
    static func only(_ limits: [RateLimitRule: Int]) -> @Sendable (inout AppPolicy) -> Void {
        { policy in
            for (rule, limit) in limits { policy.rateLimits[rule.rawValue] = limit }
        }
    }

    @Test func fiftyConcurrentSendsToOneRecipientAdmitExactlyTheLimit() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([.recipient10m: 5])) { world in
            try await world.test { client in
                let body = jsonBody(["appid": world.app.id, "recipient": "+5511999888777"])
                let answers = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            let response = try await client.post("/otp/send", body, headers: world.basicAuth)
                            let limit = (response.json["error"] as? [String: Any])?["limit"] as? String
                            return (response.status.code, response.headers[.retryAfter], limit)
                        }
                    }
                    return try await group.reduce(into: [(Int, String?, String?)]()) { $0.append($1) }
                }
                #expect(answers.filter { $0.0 == 202 }.count == 5)
                let refused = answers.filter { $0.0 == 429 }
                #expect(refused.count == 45, "\(answers.map { $0.0 })")
                #expect(refused.allSatisfy { $0.2 == "recipient_10m" && ($0.1.flatMap(Int.init) ?? 0) > 0 })
                let verifications: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                #expect(verifications == 5)
                let events: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.events WHERE app_id = \(world.app.id) AND event = 'rate_limited'")
                #expect(events == 45)
            }
        }
    }

    @Test func twoServerProcessesShareTheLimit() async throws {
        try await TestApp.with(ownDatabase: true, configure: Self.only([.recipient10m: 5])) { world in
            try await withServeProcesses(world) { ports, http in
                // Once both processes are up (that can take most of a minute in the full suite).
                try await awayFromWindowEnd()
                let codes = try await withThrowingTaskGroup(of: UInt.self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            try await postSend(world, http, port: ports[index % 2], recipient: "+5511999888777")
                        }
                    }
                    return try await group.reduce(into: [UInt]()) { $0.append($1) }
                }
                #expect(codes.filter { $0 == 202 }.count == 5, "\(codes)")
                #expect(codes.filter { $0 == 429 }.count == 45)
            }
        }
    }

    /// A send that should be refused by `rule` when that rule alone allows one.
    @Test(arguments: [
        (RateLimitRule.recipient10m, "+5511999888777", "+5511999888777"),
        (RateLimitRule.recipient1h, "+5511999888777", "+5511999888777"),
        (RateLimitRule.recipient1d, "+5511999888777", "+5511999888777"),
        (RateLimitRule.prefix1h, "+5511999881111", "+5511999882222"),
        (RateLimitRule.country1h, "+5511999888777", "+5521999887766"),
        (RateLimitRule.app1h, "+5511999888777", "+12025550100"),
        (RateLimitRule.ip5m, "+5511999888777", "+12025550100"),
    ])
    func eachRuleTripsOnItsOwnAndResets(rule: RateLimitRule, first: String, second: String) async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([rule: 1])) { world in
            try await world.test(.live) { client in
                #expect(
                    try await client.post("/otp/send", Self.body(world, first), headers: world.basicAuth).status
                        == .accepted)
                let refused = try await client.post("/otp/send", Self.body(world, second), headers: world.basicAuth)
                #expect(refused.status == .tooManyRequests)
                #expect((refused.json["error"] as? [String: Any])?["limit"] as? String == rule.rawValue)
                let retryAfter = try #require(refused.headers[.retryAfter].flatMap(Int.init))
                #expect((1...rule.windowSeconds).contains(retryAfter))
                // Once the window has passed (moved back here rather than waited for), sends go again.
                try await world.client.query(
                    """
                    UPDATE otp.rate_limit_counters SET window_start = window_start - make_interval(secs => \(rule.windowSeconds))
                    WHERE rule = \(rule.rawValue) AND scope_key LIKE \(world.app.id + "%")
                    """, logger: quietLogger)
                #expect(
                    try await client.post("/otp/send", Self.body(world, second), headers: world.basicAuth).status
                        == .accepted)
            }
        }
    }

    static func send(_ client: some TestClientProtocol, _ world: TestApp, _ recipient: String, _ channel: String)
        async throws -> TestResponse
    {
        try await client.post(
            "/otp/send", jsonBody(["appid": world.app.id, "recipient": recipient, "channel": channel]),
            headers: world.basicAuth)
    }

    static func body(_ world: TestApp, _ recipient: String) -> String {
        jsonBody(["appid": world.app.id, "recipient": recipient])
    }

    @Test func aPrefixBurstTripsOnlyThatPrefix() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([.prefix1h: 3])) { world in
            try await world.test { client in
                for suffix in ["1001", "1002", "1003"] {
                    #expect(
                        try await client.post(
                            "/otp/send", Self.body(world, "+551199988" + suffix), headers: world.basicAuth
                        ).status == .accepted)
                }
                let burst = try await client.post(
                    "/otp/send", Self.body(world, "+5511999881004"), headers: world.basicAuth)
                #expect((burst.json["error"] as? [String: Any])?["limit"] as? String == "prefix_1h")
                let neighbour = try await client.post(
                    "/otp/send", Self.body(world, "+5511999771004"), headers: world.basicAuth)
                #expect(neighbour.status == .accepted)
            }
        }
    }

    @Test func verifiesPerIPAreLimited() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([.verifyIP5m: 3])) { world in
            try await world.test(.live) { client in
                let id = try await world.send(client)
                for _ in 0..<3 {
                    #expect(try await world.verify(client, id, code: "000000").errorCode == "INVALID_CODE")
                }
                let limited = try await world.verify(client, id, code: "123456")
                #expect(limited.status == .tooManyRequests)
                #expect((limited.json["error"] as? [String: Any])?["limit"] as? String == "verify_ip_5m")
                let status = try await world.status(client, id)
                #expect(status.json["attempts"] as? Int == 3, "a refused verify is not a try")
            }
        }
    }

    @Test func forwardedForCountsOnlyBehindTrustedProxies() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([.ip5m: 1])) { world in
            var headers = world.basicAuth
            headers[.init("X-Forwarded-For")!] = "198.51.100.7"
            let spoofed = headers
            try await world.test(.live) { client in
                // Untrusted peer: the header is ignored, both sends count for 127.0.0.1.
                _ = try await client.post("/otp/send", Self.body(world, "+5511999888001"), headers: spoofed)
                var other = world.basicAuth
                other[.init("X-Forwarded-For")!] = "203.0.113.9"
                let second = try await client.post("/otp/send", Self.body(world, "+5511999888002"), headers: other)
                #expect(second.status == .tooManyRequests)
            }
            try await world.test(.live, trustedProxies: TrustedProxies("127.0.0.1")) { client in
                let forwarded = try await client.post("/otp/send", Self.body(world, "+5511999888003"), headers: spoofed)
                #expect(forwarded.status == .accepted, "behind a trusted proxy the forwarded client is counted")
                let event: String = try await world.scalar(
                    "SELECT ip FROM otp.events WHERE app_id = \(world.app.id) AND event = 'send_requested' ORDER BY id DESC LIMIT 1"
                )
                #expect(event == "198.51.100.7")
            }
        }
    }

    @Test func countryAndLineTypeRules() async throws {
        try await TestApp.with(configure: Self.destinationRules) { world in
            try await world.test { client in
                let cases: [(String, String, String?)] = [
                    ("+7 912 345-67-89", "sms", "COUNTRY_NOT_ALLOWED"),
                    ("+33 6 12 34 56 78", "whatsapp", "COUNTRY_NOT_ALLOWED"),
                    ("+33 6 12 34 56 78", "sms", nil),
                    ("+44 20 7946 0958", "sms", "INVALID_RECIPIENT"),
                    ("+44 20 7946 0958", "whatsapp", "COUNTRY_NOT_ALLOWED"),
                    ("+55 11 3456-7890", "sms", "INVALID_RECIPIENT"),
                    ("+55 11 99988-8777", "whatsapp", nil),
                ]
                for (recipient, channel, code) in cases {
                    let response = try await Self.send(client, world, recipient, channel)
                    #expect(response.errorCode == code, "\(recipient) by \(channel)")
                    #expect(response.status.code == (code == nil ? 202 : code == "COUNTRY_NOT_ALLOWED" ? 403 : 400))
                }
                let refusals: [String] = try await world.scalar(
                    """
                    SELECT array_agg(details->>'reason' ORDER BY id) FROM otp.events
                    WHERE app_id = \(world.app.id) AND event = 'refused'
                    """)
                #expect(
                    refusals == [
                        "COUNTRY_NOT_ALLOWED", "COUNTRY_NOT_ALLOWED", "LINE_TYPE_REFUSED", "COUNTRY_NOT_ALLOWED",
                        "LINE_TYPE_REFUSED",
                    ])
            }
        }
    }

    /// SMS anywhere but Russia and never to fixed lines; WhatsApp to Brazil only.
    static let destinationRules: @Sendable (inout AppPolicy) -> Void = { policy in
        policy.countries[.sms] = .deny(["RU"])
        policy.countries[.whatsapp] = .allow(["BR"])
        policy.refusedLineTypes[.sms] = [.fixedLine]
    }

    @Test func theRateLimitsRouteReportsWhatTheLimiterEnforces() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(configure: Self.only([.recipient10m: 5, .prefix1h: 20, .app1h: 1000])) { world in
            try await world.test { client in
                for _ in 0..<3 { _ = try await world.send(client, recipient: "+5511999888777") }
                let response = try await client.get(
                    "/otp/rate-limits?appid=\(world.app.id)&recipient=%2B5511999888777", headers: world.basicAuth)
                #expect(response.status == .ok)
                let rules = try #require(response.json["rules"] as? [[String: Any]])
                let byName = Dictionary(
                    uniqueKeysWithValues: rules.compactMap { rule in
                        (rule["rule"] as? String).map { ($0, rule) }
                    })
                #expect(Set(byName.keys) == ["recipient_10m", "prefix_1h", "app_1h"])
                let recipient = try #require(byName["recipient_10m"])
                #expect(recipient["limit"] as? Int == 5 && recipient["used"] as? Int == 3)
                #expect(recipient["remaining"] as? Int == 2 && recipient["window_seconds"] as? Int == 600)
                #expect(recipient["scope"] as? String == "recipient")
                #expect(byName["app_1h"]?["used"] as? Int == 3, "the shards of a shared budget add up")
                let reset = try #require(
                    (recipient["reset_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                #expect(reset > Date() && reset <= Date().addingTimeInterval(601))
                for _ in 0..<2 { _ = try await world.send(client, recipient: "+5511999888777") }
                let full = try await client.post(
                    "/otp/send", Self.body(world, "+5511999888777"), headers: world.basicAuth)
                #expect(full.errorCode == "RATE_LIMITED", "remaining 0 is where the limiter refuses")
            }
        }
    }
}
