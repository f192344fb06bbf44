import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPCore
import OTPTesting
import Testing

@Suite struct IdempotencyTests {
    @Test func sameKeySameBodyReplaysTheFirstAnswer() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                var headers = world.basicAuth
                headers[.idempotencyKey] = "order-42:attempt_1"
                let body = jsonBody(["appid": world.app.id, "recipient": "+12025550100"])
                let first = try await client.post("/otp/send", body, headers: headers)
                let second = try await client.post("/otp/send", body, headers: headers)
                #expect(first.status == .accepted)
                #expect(second.status == .accepted)
                #expect(String(buffer: first.body) == String(buffer: second.body))
                let id = try #require(first.json["verification_id"] as? String)
                let verifications: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                let deliveries: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(verifications == 1)
                #expect(deliveries == 1)
            }
        }
    }

    @Test func concurrentRepeatsMakeOneVerification() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                var burst = world.basicAuth
                burst[.idempotencyKey] = "burst"
                let headers = burst
                let body = jsonBody(["appid": world.app.id, "recipient": "+12025550100"])
                let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            try await client.post("/otp/send", body, headers: headers).json["verification_id"]
                                as? String
                        }
                    }
                    return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
                }
                #expect(ids.count == 1 && ids.first != nil)
                let verifications: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                #expect(verifications == 1)
            }
        }
    }

    @Test func sameKeyOtherBodyIsRefused() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                var headers = world.basicAuth
                headers[.idempotencyKey] = "k1"
                _ = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+12025550100"]), headers: headers)
                let other = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+12025550199"]), headers: headers)
                #expect(other.status == .unprocessableContent)
                #expect(other.errorCode == "IDEMPOTENCY_KEY_REUSED")
            }
        }
    }

    @Test func oneKeyUsedByTwoAppsOfOneAccountIsTwoKeys() async throws {
        try await TestApp.with { world in
            let account: String = try await world.scalar(
                "SELECT a.name FROM otp.accounts a JOIN otp.apps p ON p.account_id = a.id WHERE p.id = \(world.app.id)")
            let other = try await world.directory.createApp(name: "Other", account: account, policy: .default)
            let otherKey = try await world.directory.createKey(
                appIDs: [other.id], secrets: APIKeySecrets(keys: world.keys))
            let otherAuth: HTTPFields = [
                .authorization: "Basic " + Data("\(otherKey.keyID):\(otherKey.secret)".utf8).base64EncodedString()
            ]
            try await world.test { client in
                var ids: [String] = []
                for (appID, auth) in [(world.app.id, world.basicAuth), (other.id, otherAuth)] {
                    for _ in 0..<2 {
                        var headers = auth
                        headers[.idempotencyKey] = "shared-key"
                        let body = jsonBody(["appid": appID, "recipient": "+12025550100"])
                        let answer = try await client.post("/otp/send", body, headers: headers)
                        #expect(answer.status == .accepted, "\(appID): \(String(buffer: answer.body))")
                        ids.append(try #require(answer.json["verification_id"] as? String))
                    }
                }
                // Each app replays its own first answer; neither learns of nor claims the other's key.
                #expect(ids[0] == ids[1] && ids[2] == ids[3] && ids[0] != ids[2])
            }
        }
    }

    @Test func malformedKeysAreValidationErrors() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                for key in ["has space", String(repeating: "k", count: 256), "ключ"] {
                    var headers = world.basicAuth
                    headers[.idempotencyKey] = key
                    let response = try await client.post(
                        "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+12025550100"]), headers: headers)
                    #expect(response.status == .badRequest)
                    #expect(response.errorCode == "VALIDATION_ERROR")
                }
            }
        }
    }
}
