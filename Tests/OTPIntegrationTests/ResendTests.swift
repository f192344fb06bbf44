import Foundation
import HummingbirdTesting
import OTPTesting
import Testing

/// `POST /otp/resend`: a new code, the cooldown, the send cap, channel switches.
@Suite struct ResendTests {
    @Test func resendMakesANewCodeAndTheOldOneStopsWorking() async throws {
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 0 }) { world in
            try await world.test { client in
                let id = try await world.send(client, code: "101010")
                world.codes.push("202020")
                let resent = try await world.resend(client, id, channel: "whatsapp")
                #expect(resent.status == .accepted)
                #expect(resent.json["verification_id"] as? String == id)
                #expect(resent.json["channel"] as? String == "whatsapp")
                #expect(resent.json["delivery_status"] as? String == "queued")

                let old = try await world.verify(client, id, code: "101010")
                #expect(old.errorCode == "INVALID_CODE")
                #expect(old.json["attempts_remaining"] as? Int == 4, "wrong tries carry over")
                let new = try await world.verify(client, id, code: "202020")
                #expect(new.status == .ok)

                let states: [String] = try await world.scalar(
                    "SELECT array_agg(state ORDER BY id) FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(states == ["canceled", "canceled"], "the superseded and the unsent delivery are dropped")
                let status = try await world.status(client, id)
                #expect(status.json["sends"] as? Int == 2)
            }
        }
    }

    @Test func sameCodePolicyResendsTheSameCode() async throws {
        try await TestApp.with(configure: {
            $0.resendCooldownSeconds = 0
            $0.resendPolicy = .sameCode
        }) { world in
            try await world.test { client in
                let id = try await world.send(client, code: "303030")
                world.codes.push("404040")
                #expect(try await world.resend(client, id).status == .accepted)
                #expect(try await world.verify(client, id, code: "303030").status == .ok)
                let kept: Bool = try await world.scalar(
                    "SELECT sealed_code IS NOT NULL FROM otp.verifications WHERE id = \(id)")
                #expect(!kept, "the sealed copy goes once the verification is settled")
            }
        }
    }

    @Test func cooldownRefusesWithRetryAfter() async throws {
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 120 }) { world in
            try await world.test { client in
                let id = try await world.send(client)
                let response = try await world.resend(client, id)
                // What the cooldown has left, read off the row after the answer (a loaded machine takes
                // seconds between the requests): Retry-After, counted when the resend was refused, is
                // no less than that and no more than the whole cooldown.
                let left: Double = try await world.scalar(
                    "SELECT extract(epoch FROM resend_available_at - now())::float8 FROM otp.verifications WHERE id = \(id)"
                )
                #expect(response.status == .tooManyRequests)
                #expect(response.errorCode == "RESEND_COOLDOWN")
                let retryAfter = try #require(response.headers[.retryAfter].flatMap { Int($0) })
                #expect(Double(retryAfter) >= left && retryAfter <= 120, "\(retryAfter) vs \(left)")
            }
        }
    }

    @Test func maxSendsIsEnforced() async throws {
        try await TestApp.with(configure: {
            $0.resendCooldownSeconds = 0
            $0.maxSends = 2
        }) { world in
            try await world.test { client in
                let id = try await world.send(client)
                #expect(try await world.resend(client, id).status == .accepted)
                let third = try await world.resend(client, id)
                #expect(third.status == .tooManyRequests)
                #expect(third.errorCode == "MAX_SENDS_EXCEEDED")
            }
        }
    }

    @Test func settledVerificationsAreNotPending() async throws {
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 0 }) { world in
            try await world.test { client in
                let verified = try await world.send(client, code: "515151")
                _ = try await world.verify(client, verified, code: "515151")
                let expired = try await world.send(client)
                try await world.setExpiry(expired, secondsFromNow: -5)
                for id in [verified, expired] {
                    let response = try await world.resend(client, id)
                    #expect(response.status == .conflict)
                    #expect(response.errorCode == "NOT_PENDING")
                }
            }
        }
    }

    @Test func unknownVerificationAndDisallowedChannel() async throws {
        try await TestApp.with(configure: {
            $0.resendCooldownSeconds = 0
            $0.channels = [.sms]
        }) { world in
            try await world.test { client in
                let unknown = try await world.resend(client, "otp_" + String(repeating: "0", count: 26))
                #expect(unknown.status == .notFound)
                #expect(unknown.errorCode == "NOT_FOUND")
                let id = try await world.send(client)
                let whatsapp = try await world.resend(client, id, channel: "whatsapp")
                #expect(whatsapp.errorCode == "CHANNEL_NOT_ALLOWED")
                let missing = try await client.post(
                    "/otp/resend", jsonBody(["appid": world.app.id]), headers: world.basicAuth)
                #expect(missing.errorCode == "VALIDATION_ERROR")
            }
        }
    }
}
