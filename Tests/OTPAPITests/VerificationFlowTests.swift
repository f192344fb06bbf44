import Foundation
import HummingbirdTesting
import OTPCore
import OTPTesting
import Testing

/// Send, verify and resend through the router and the core's rules, the store in memory.
@Suite struct VerificationFlowTests {
    @Test func theRightCodeVerifiesOnceAndAWrongOneCountsDown() async throws {
        let world = try InMemoryWorld { $0.maxAttempts = 3 }
        try await world.test { client in
            let id = try await world.send(client, code: "482913")
            let verify: (String) async throws -> TestResponse = { code in
                try await client.post(
                    "/otp/verify", #"{"appid":"\#(world.app.id)","verification_id":"\#(id)","otp_code":"\#(code)"}"#,
                    headers: world.auth)
            }
            let wrong = try await verify("000000")
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.json["code"] as? String == "INVALID_CODE")
            #expect(wrong.json["attempts_remaining"] as? Int == 2)
            #expect(wrong.errorCode == "INVALID_CODE")
            let right = try await verify("482913")
            #expect(right.status == .ok)
            #expect(right.json["verified"] as? Bool == true)
            #expect(try await verify("482913").status == .conflict)
            #expect(world.store.queuedDeliveries.count == 1)
        }
    }

    @Test func aFullLimitAnswers429AndTheRefusalIsAudited() async throws {
        let world = try InMemoryWorld { $0.rateLimits[RateLimitRule.recipient10m.rawValue] = 1 }
        try await world.test { client in
            _ = try await world.send(client)
            let refused = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#, headers: world.auth)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "RATE_LIMITED")
            #expect(refused.error["limit"] as? String == RateLimitRule.recipient10m.rawValue)
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
        #expect(world.store.verifications.count == 1)
        #expect(world.store.events.map(\.kind) == [.sendRequested, .rateLimited])
        #expect(world.store.events.last?.details == ["limit": RateLimitRule.recipient10m.rawValue])
    }

    @Test func aCountryTheAppRefusesIsAuditedOnceByTheService() async throws {
        let world = try InMemoryWorld { $0.countries[.sms] = .allow(["BR"]) }
        try await world.test { client in
            let refused = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+14155550100"}"#, headers: world.auth)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "COUNTRY_NOT_ALLOWED")
        }
        #expect(world.store.events.map(\.kind) == [.refused])
        #expect(world.store.events.first?.details == ["reason": "COUNTRY_NOT_ALLOWED"])
    }

    @Test func theSameIdempotencyKeyReplaysAndAnotherBodyIsRefused() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            var headers = world.auth
            headers[.init("Idempotency-Key")!] = "order-1"
            let body = #"{"appid":"\#(world.app.id)","recipient":"+5511999887766"}"#
            let first = try await client.post("/otp/send", body, headers: headers)
            let again = try await client.post("/otp/send", body, headers: headers)
            #expect(first.status == .accepted)
            #expect(again.json["verification_id"] as? String == first.json["verification_id"] as? String)
            let other = try await client.post(
                "/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999887700"}"#, headers: headers)
            #expect(other.errorCode == "IDEMPOTENCY_KEY_REUSED")
        }
        #expect(world.store.verifications.count == 1)
    }

    @Test func anExpiredPendingVerificationReadsAsExpired() async throws {
        let world = try InMemoryWorld()
        try await world.test { client in
            let id = try await world.send(client)
            world.clock.advance(by: 3600)
            let status = try await client.get(
                "/otp/status?appid=\(world.app.id)&verification_id=\(id)", headers: world.auth)
            #expect(status.json["status"] as? String == "expired")
            let list = try await client.get("/otp/list?appid=\(world.app.id)&status=expired", headers: world.auth)
            #expect((list.json["items"] as? [Any])?.count == 1)
        }
    }
}
