import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPCore
import OTPTesting
import Testing

/// The template routes, and templates on their way to the provider.
@Suite struct TemplateTests {
    func create(_ world: TestApp, _ client: some TestClientProtocol, body: String, locale: String = "en")
        async throws -> TestResponse
    {
        try await client.post(
            "/otp/templates", jsonBody(["appid": world.app.id, "name": "Login", "locale": locale, "body": body]),
            headers: world.basicAuth)
    }

    @Test func createListShowUpdatePreviewDelete() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let created = try await create(
                    world, client, body: "{{code}} opens {{app_name}}. Valid {{expires_in_minutes}} min.")
                #expect(created.status == .created)
                #expect(created.json["encoding"] as? String == "GSM-7" && created.json["segments"] as? Int == 1)
                #expect(created.json["version"] as? Int == 1)
                let id = try #require(created.json["id"] as? String)

                let unicode = try await create(world, client, body: "{{code}} é o seu código", locale: "pt-BR")
                #expect(unicode.json["encoding"] as? String == "UCS-2")

                let list = try await client.get(
                    "/otp/templates?appid=\(world.app.id)&limit=1", headers: world.basicAuth)
                #expect((list.json["items"] as? [[String: Any]])?.count == 1 && list.json["next_cursor"] is String)

                let updated = try await client.execute(
                    uri: "/otp/templates/\(id)", method: .put, headers: world.basicAuth,
                    body: .init(string: jsonBody(["body": "Code {{code}} for {{app_name}}"])))
                #expect(updated.json["version"] as? Int == 2)
                #expect(
                    try await client.get("/otp/templates/\(id)", headers: world.basicAuth).json["body"] as? String
                        == "Code {{code}} for {{app_name}}")

                let preview = try await client.post(
                    "/otp/templates/\(id)/preview", jsonBody(["app_name": "Acme"]), headers: world.basicAuth)
                #expect(preview.json["text"] as? String == "Code 123456 for Acme")
                #expect(preview.json["segments"] as? Int == 1)

                let deleted = try await client.execute(
                    uri: "/otp/templates/\(id)", method: .delete, headers: world.basicAuth)
                #expect(deleted.status == .noContent)
                #expect(
                    try await client.get("/otp/templates/\(id)", headers: world.basicAuth).errorCode
                        == "TEMPLATE_NOT_FOUND")
                let versions: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.template_versions WHERE template_id = \(id)")
                #expect(versions == 2)
            }
        }
    }

    @Test(arguments: [
        "Your code is ready", "{{code}} {{code}}", "{{code}} {{secret}}", "{{code}} {{#app_name}}x{{/app_name}}",
        "{{code}} " + String(repeating: "long ", count: 120), "{{code}} {{",
    ])
    func invalidBodiesAreValidationErrors(body: String) async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let response = try await create(world, client, body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == "VALIDATION_ERROR")
                #expect((response.json["error"] as? [String: Any])?["field"] as? String == "body")
            }
        }
    }

    @Test func anotherAccountsTemplateDoesNotExist() async throws {
        try await TestApp.with { world in
            let foreign = try await TestApp.with { other in
                try await other.test { client in
                    try await create(other, client, body: "{{code}}").json["id"] as? String ?? ""
                }
            }
            try await world.test { client in
                #expect(
                    try await client.get("/otp/templates/\(foreign)", headers: world.basicAuth).errorCode
                        == "TEMPLATE_NOT_FOUND")
                let send = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+5511999888777", "template": foreign]),
                    headers: world.basicAuth)
                #expect(send.errorCode == "TEMPLATE_NOT_FOUND")
            }
        }
    }

    @Test func aCustomTemplateReachesTheProviderAndAnEditDoesNotChangeAQueuedMessage() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let created = try await create(world, client, body: "ACME {{code}} ({{app_name}})")
                let id = try #require(created.json["id"] as? String)
                let queued = try await world.send(client, code: "777111", extra: ["template": id])
                _ = try await client.execute(
                    uri: "/otp/templates/\(id)", method: .put, headers: world.basicAuth,
                    body: .init(string: jsonBody(["body": "EDITED {{code}}"])))
                let after = try await world.send(
                    client, code: "777222", recipient: "+5511999888111", extra: ["template": id])
                try await runWorker(world, provider: provider, configuration: WorkerTests.fastRetries) {
                    try await waitUntil {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 2
                    }
                }
                let bodies = Dictionary(uniqueKeysWithValues: provider.messages.map { ($0.verificationID, $0.body) })
                #expect(bodies[queued] == "ACME 777111 (Test)")
                #expect(bodies[after] == "EDITED 777222")
                let versions: [Int] = try await world.scalar(
                    "SELECT array_agg(template_version ORDER BY id) FROM otp.deliveries WHERE template_id = \(id)")
                #expect(versions == [1, 2])
            }
        }
    }

    @Test func predefinedTextsFollowTheRecipientsCountryAndTheAppsOptions() async throws {
        try await TestApp.with(
            ownDatabase: true,
            configure: {
                $0.messages.extras = TemplateExtras(doNotShare: true, webOTPDomain: WebOTPDomain("example.com"))
            }
        ) { world in
            let provider = CapturingProvider()
            try await world.test { client in
                let brazil = try await world.send(client, code: "246802", recipient: "+5511999888777")
                let germany = try await world.send(
                    client, code: "135791", recipient: "+49 151 23456789", extra: ["template": "login"])
                let french = try await world.send(
                    client, code: "112233", recipient: "+5511999888111", extra: ["locale": "fr-CA"])
                try await runWorker(world, provider: provider, configuration: WorkerTests.fastRetries) {
                    try await waitUntil {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 3
                    }
                }
                let bodies = Dictionary(uniqueKeysWithValues: provider.messages.map { ($0.verificationID, $0.body) })
                let expectedBrazil = TemplateCatalog.message(
                    for: .verification, locale: "pt-BR",
                    extras: TemplateExtras(doNotShare: true, webOTPDomain: WebOTPDomain("example.com"))
                ).text
                #expect(
                    bodies[brazil]
                        == expectedBrazil
                        .replacingOccurrences(of: "{{code}}", with: "246802")
                        .replacingOccurrences(of: "{{app_name}}", with: "Test")
                        .replacingOccurrences(of: "{{expires_in_minutes}}", with: "5"))
                #expect(bodies[brazil]?.hasSuffix("\n@example.com #246802") == true)
                #expect(bodies[germany]?.contains("135791") == true)
                let locales: [String] = try await world.scalar(
                    "SELECT array_agg(locale ORDER BY id) FROM otp.deliveries")
                #expect(locales == ["pt-BR", "de", "fr"])
                #expect(bodies[french]?.contains("112233") == true)
            }
        }
    }
}
