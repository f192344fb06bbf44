import Foundation
import HummingbirdTesting
import OTPTesting
import Testing

/// `POST /otp/send`: the answer, the rows it makes, and every refusal it can give.
@Suite struct SendTests {
    @Test func sendAnswersAndQueuesOneDelivery() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+55 11 99988-8777"]),
                    headers: world.basicAuth)
                #expect(response.status == .accepted)
                let json = response.json
                let id = try #require(json["verification_id"] as? String)
                #expect(id.wholeMatch(of: /otp_[0-9a-z]{26}/) != nil)
                #expect(json["status"] as? String == "pending")
                #expect(json["channel"] as? String == "sms")
                #expect(json["recipient"] as? String == "+5511999888777")
                #expect(json["delivery_status"] as? String == "queued")
                let expires = try #require(
                    (json["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                let resendAt = try #require(
                    (json["resend_available_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                #expect(abs(expires.timeIntervalSince(resendAt) - 270) < 3)

                let deliveries: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.deliveries WHERE verification_id = \(id) AND state = 'queued'")
                #expect(deliveries == 1)
                let events: [String] = try await world.scalar(
                    "SELECT array_agg(event ORDER BY id) FROM otp.events WHERE verification_id = \(id)")
                #expect(events == ["send_requested", "delivery_queued"])
            }
        }
    }

    @Test func requestOptionsOverrideTheAppsDefaults() async throws {
        try await TestApp.with(configure: { $0.allowedSenders = ["Acme"] }) { world in
            try await world.test { client in
                let id = try await world.send(
                    client, code: "12345678",
                    extra: [
                        "channel": "whatsapp", "code_length": 8, "expires_in": 60, "from": "Acme", "locale": "pt-BR",
                        "metadata": ["order": "42"],
                    ])
                let row: (String, Int, Int, String?, String?) = try await {
                    let rows = try await world.client.query(
                        """
                        SELECT channel, code_length, ttl_seconds, sender, locale FROM otp.verifications WHERE id = \(id)
                        """, logger: quietLogger)
                    for try await row in rows.decode((String, Int, Int, String?, String?).self) { return row }
                    throw TestFailure("no row")
                }()
                #expect(row.0 == "whatsapp" && row.1 == 8 && row.2 == 60 && row.3 == "Acme" && row.4 == "pt-BR")
            }
        }
    }

    @Test(
        arguments: [
            (#"{"appid":"APP","recipient":"+12025550100""#, 400, "INVALID_JSON", nil),
            (#"[1,2,3]"#, 400, "INVALID_JSON", nil),
            (#""just a string""#, 400, "INVALID_JSON", nil),
            (#""#, 400, "INVALID_JSON", nil),
            (#"{"recipient":"+12025550100"}"#, 400, "VALIDATION_ERROR", "appid"),
            (#"{"appid":42,"recipient":"+12025550100"}"#, 400, "VALIDATION_ERROR", "appid"),
            (#"{"appid":"APP"}"#, 400, "VALIDATION_ERROR", "recipient"),
            (#"{"appid":"APP","recipient":"not a number"}"#, 400, "INVALID_RECIPIENT", "recipient"),
            (#"{"appid":"APP","recipient":"5511999888777"}"#, 400, "INVALID_RECIPIENT", "recipient"),
            (#"{"appid":"APP","recipient":"+1234"}"#, 400, "INVALID_RECIPIENT", "recipient"),
            (
                #"{"appid":"APP","recipient":"+12025550100'; DROP TABLE otp.apps; --"}"#, 400, "INVALID_RECIPIENT",
                "recipient"
            ),
            (#"{"appid":"APP","recipient":"+12025550100","channel":"fax"}"#, 400, "VALIDATION_ERROR", "channel"),
            (
                #"{"appid":"APP","recipient":"+12025550100","channel":"whatsapp"}"#, 400, "CHANNEL_NOT_ALLOWED",
                "channel"
            ),
            (#"{"appid":"APP","recipient":"+12025550100","template":"tpl_1"}"#, 404, "TEMPLATE_NOT_FOUND", "template"),
            (#"{"appid":"APP","recipient":"+12025550100","code_length":5}"#, 400, "VALIDATION_ERROR", "code_length"),
            (#"{"appid":"APP","recipient":"+12025550100","code_length":-6}"#, 400, "VALIDATION_ERROR", "code_length"),
            (
                #"{"appid":"APP","recipient":"+12025550100","code_length":1e400}"#, 400, "VALIDATION_ERROR",
                "code_length"
            ),
            (
                #"{"appid":"APP","recipient":"+12025550100","code_length":99999999999999999999999}"#, 400,
                "VALIDATION_ERROR",
                "code_length"
            ),
            (#"{"appid":"APP","recipient":"+12025550100","code_length":6.5}"#, 400, "VALIDATION_ERROR", "code_length"),
            (#"{"appid":"APP","recipient":"+12025550100","expires_in":601}"#, 400, "VALIDATION_ERROR", "expires_in"),
            (
                #"{"appid":"APP","recipient":"+12025550100","from":"Far too long a name"}"#, 400, "VALIDATION_ERROR",
                "from"
            ),
            // Neither the app's sender nor one of its allowed senders: a phisher's decoy name or number.
            (#"{"appid":"APP","recipient":"+12025550100","from":"YourBank"}"#, 400, "VALIDATION_ERROR", "from"),
            (#"{"appid":"APP","recipient":"+12025550100","from":"+18005551234"}"#, 400, "VALIDATION_ERROR", "from"),
            (#"{"appid":"APP","recipient":"+12025550100","locale":"español"}"#, 400, "VALIDATION_ERROR", "locale"),
            (#"{"appid":"APP","recipient":"+12025550100","metadata":{"a":1}}"#, 400, "VALIDATION_ERROR", "metadata"),
            (#"{"appid":"APP","recipient":"+12025550100","metadata":[1]}"#, 400, "VALIDATION_ERROR", "metadata"),
            (#"{"appid":"app_doesnotexist","recipient":"+12025550100"}"#, 404, "APP_NOT_FOUND", "appid"),
            (#"{"appid":"🙂🙃","recipient":"+12025550100"}"#, 404, "APP_NOT_FOUND", "appid"),
        ] as [(String, Int, String, String?)])
    func refusals(body: String, status: Int, code: String, field: String?) async throws {
        try await TestApp.with(configure: { $0.channels = [.sms] }) { world in
            try await world.test { client in
                let response = try await client.post(
                    "/otp/send", body.replacingOccurrences(of: "APP", with: world.app.id), headers: world.basicAuth)
                #expect(response.status.code == status, "\(body)")
                #expect(response.errorCode == code, "\(body)")
                #expect((response.json["error"] as? [String: Any])?["field"] as? String == field, "\(body)")
                #expect((response.json["error"] as? [String: Any])?["message"] is String)
            }
        }
    }

    @Test func tooManyMetadataKeysAreRefused() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let metadata = Dictionary(uniqueKeysWithValues: (0..<11).map { ("k\($0)", "v") })
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+12025550100", "metadata": metadata]),
                    headers: world.basicAuth)
                #expect(response.errorCode == "VALIDATION_ERROR")
            }
        }
    }

    @Test func bodiesOver64KiBAreRefused() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let padding = String(repeating: "x", count: 70_000)
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+12025550100", "pad": padding]),
                    headers: world.basicAuth)
                #expect(response.status == .contentTooLarge)
                #expect(response.errorCode == "PAYLOAD_TOO_LARGE")
            }
        }
    }

    @Test func anAppOfTheAccountTheKeyMayNotUseIsForbidden() async throws {
        try await TestApp.with { world in
            let sibling = try await world.sibling()
            try await world.test { client in
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": sibling.id, "recipient": "+12025550100"]), headers: world.basicAuth)
                #expect(response.status == .forbidden)
                #expect(response.errorCode == "APP_FORBIDDEN")
            }
        }
    }

    @Test func anotherAccountsAppIsNotFound() async throws {
        try await TestApp.with { world in
            let foreignApp = try await TestApp.with { other in other.app.id }
            try await world.test { client in
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": foreignApp, "recipient": "+12025550100"]), headers: world.basicAuth)
                #expect(response.status == .notFound)
                #expect(response.errorCode == "APP_NOT_FOUND")
            }
        }
    }
}
