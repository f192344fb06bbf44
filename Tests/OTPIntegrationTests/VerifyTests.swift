import Foundation
import HummingbirdTesting
import OTPTesting
import Testing

/// Every row of the contract's verify table.
@Suite struct VerifyTests {
    @Test func rightCodeVerifiesOnce() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "246810")
                let first = try await world.verify(client, id, code: "246810")
                #expect(first.status == .ok)
                #expect(first.json["verified"] as? Bool == true)
                #expect(first.json["code"] as? String == "VERIFIED")
                #expect(first.json["status"] as? String == "verified")
                #expect(first.json["error"] == nil)

                let again = try await world.verify(client, id, code: "246810")
                #expect(again.status == .conflict)
                #expect(again.json["code"] as? String == "ALREADY_VERIFIED")
                #expect(again.errorCode == "ALREADY_VERIFIED")
                #expect(again.json["verified"] as? Bool == false)
                #expect(again.json["status"] as? String == "verified")
            }
        }
    }

    @Test func wrongCodesCountDownThenLock() async throws {
        try await TestApp.with(configure: { $0.maxAttempts = 3 }) { world in
            try await world.test { client in
                let id = try await world.send(client, code: "111111")
                let first = try await world.verify(client, id, code: "222222")
                #expect(first.status == .unprocessableContent)
                #expect(first.errorCode == "INVALID_CODE")
                #expect(first.json["attempts_remaining"] as? Int == 2)
                #expect(first.json["status"] as? String == "pending")

                _ = try await world.verify(client, id, code: "222222")
                let last = try await world.verify(client, id, code: "333333")
                #expect(last.status == .tooManyRequests)
                #expect(last.json["code"] as? String == "MAX_ATTEMPTS_EXCEEDED")
                #expect(last.json["status"] as? String == "locked")
                #expect(last.headers[.retryAfter] == nil)

                let rightButLocked = try await world.verify(client, id, code: "111111")
                #expect(rightButLocked.status == .tooManyRequests)
                #expect(rightButLocked.json["verified"] as? Bool == false)
                #expect(rightButLocked.errorCode == "MAX_ATTEMPTS_EXCEEDED")
            }
        }
    }

    @Test func expiredCodeIsGone() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "135790")
                try await world.setExpiry(id, secondsFromNow: -1)
                let response = try await world.verify(client, id, code: "135790")
                #expect(response.status == .gone)
                #expect(response.errorCode == "EXPIRED")
                #expect(response.json["status"] as? String == "expired")
                let status = try await world.status(client, id)
                #expect(status.json["status"] as? String == "expired")
            }
        }
    }

    @Test func unknownIDsAndOtherAppsIDsAreNotFound() async throws {
        try await TestApp.with { world in
            let foreignID = try await TestApp.with { other in
                try await other.test { client in try await other.send(client, code: "999999") }
            }
            try await world.test { client in
                for id in ["otp_" + String(repeating: "a", count: 26), "nonsense", foreignID, "' OR 1=1 --"] {
                    let response = try await world.verify(client, id, code: "999999")
                    #expect(response.status == .notFound, "\(id)")
                    #expect(response.json["code"] as? String == "NOT_FOUND")
                    #expect(response.errorCode == "NOT_FOUND")
                    #expect(response.json["verified"] as? Bool == false)
                }
            }
        }
    }

    @Test func differentRecipientIsNotFoundAndCostsATry() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "555111", recipient: "+5511999888777")
                let mismatch = try await world.verify(client, id, code: "555111", recipient: "+5511999888000")
                #expect(mismatch.status == .notFound)
                #expect(mismatch.errorCode == "NOT_FOUND")
                let status = try await world.status(client, id)
                #expect(status.json["attempts"] as? Int == 1)
                #expect(status.json["attempts_remaining"] as? Int == 4)

                let sameNumberOtherSpelling = try await world.verify(
                    client, id, code: "555111", recipient: "+55 11 99988-8777")
                #expect(sameNumberOtherSpelling.status == .ok)
            }
        }
    }

    @Test func twentyConcurrentRightCodesVerifyExactlyOnce() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "777777")
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<20 {
                        group.addTask { try await world.verify(client, id, code: "777777").status.code }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 1)
                #expect(statuses.filter { $0 == 409 }.count == 19)
            }
        }
    }

    @Test func fiftyConcurrentWrongCodesCountExactlyMaxAttempts() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "868686")
                let codes = try await withThrowingTaskGroup(of: String?.self) { group in
                    for attempt in 0..<50 {
                        group.addTask {
                            try await world.verify(client, id, code: String(format: "%06d", attempt)).errorCode
                        }
                    }
                    return try await group.reduce(into: [String?]()) { $0.append($1) }
                }
                #expect(codes.filter { $0 == "INVALID_CODE" }.count == 4)
                #expect(codes.filter { $0 == "MAX_ATTEMPTS_EXCEEDED" }.count == 46)
                let wrongTries: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verify_attempts WHERE verification_id = \(id)")
                #expect(wrongTries == 5)
                let attempts: Int = try await world.scalar(
                    "SELECT attempts FROM otp.verifications WHERE id = \(id)")
                #expect(attempts == 5)
                let right = try await world.verify(client, id, code: "868686")
                #expect(right.errorCode == "MAX_ATTEMPTS_EXCEEDED")
            }
        }
    }

    @Test func malformedCodesAreValidationErrors() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "123123")
                for code in ["12a456", "12345", "12345678901", "١٢٣٤٥٦", " 123456", ""] {
                    let response = try await world.verify(client, id, code: code)
                    #expect(response.status == .badRequest, "\(code)")
                    #expect(response.errorCode == "VALIDATION_ERROR")
                    #expect((response.json["error"] as? [String: Any])?["field"] as? String == "otp_code")
                }
                let numeric = try await client.post(
                    "/otp/verify", #"{"appid":"\#(world.app.id)","verification_id":"\#(id)","otp_code":123123}"#,
                    headers: world.basicAuth)
                #expect(numeric.errorCode == "VALIDATION_ERROR")
                let status = try await world.status(client, id)
                #expect(status.json["attempts"] as? Int == 0)
            }
        }
    }
}
