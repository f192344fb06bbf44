import Foundation
import OTPCore
import OTPTesting
import Testing

/// What the operator's commands accept as names and senders.
@Suite struct AppNamingCommandTests {
    func run(_ world: TestApp, _ arguments: [String]) async throws -> (status: Int32?, log: String) {
        let process = try SpawnedProcess.start(
            arguments, environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
        let status = await process.waitForExit(seconds: 60)
        return (status, process.log)
    }

    @Test func aNameWithControlCharactersIsRefusedInOneLine() async throws {
        try await TestApp.with { world in
            // The name of the review: a forged row in `otp apps list` and a terminal title.
            let forged = "Acme\napp_forged\tEvil\u{1B}]0;pwned\u{07}"
            let refused = try await run(world, ["apps", "create", "--name", forged, "--account", "naming"])
            #expect(refused.status == 1, "\(refused.log)")
            #expect(refused.log.contains("--name may hold no control characters"), "\(refused.log)")
            #expect(!refused.log.contains("\u{1B}"))
            let account = try await run(world, ["apps", "create", "--name", "Fine", "--account", "bad\u{202E}name"])
            #expect(account.status == 1, "\(account.log)")
        }
    }

    @Test func allowedSendersAreAddedAndRemovedOneByOne() async throws {
        try await TestApp.with { world in
            let added = try await run(
                world, ["apps", "update", world.app.id, "--sender", "Acme Help", "--sender", "+14155550100", "--json"])
            #expect(added.status == 0, "\(added.log)")
            var senders = try await world.directory.app(id: world.app.id)?.policy.allowedSenders
            #expect(senders == ["Acme Help", "+14155550100"])
            let removed = try await run(world, ["apps", "update", world.app.id, "--sender", "-Acme Help"])
            #expect(removed.status == 0, "\(removed.log)")
            senders = try await world.directory.app(id: world.app.id)?.policy.allowedSenders
            #expect(senders == ["+14155550100"])
            let bad = try await run(world, ["apps", "update", world.app.id, "--sender", "https://x"])
            #expect(bad.status == 1, "\(bad.log)")
        }
    }

    /// `otp apps update` reads its entries as the dashboard's form does (`PolicyChange`): the same
    /// policy for the same entries, and a refusal that names the option.
    @Test func policyOptionsChangeWhatTheyNameAndRefuseWhatTheFormRefuses() async throws {
        try await TestApp.with { world in
            let changed = try await run(
                world,
                [
                    "apps", "update", world.app.id, "--channels", "sms,whatsapp", "--default-channel", "whatsapp",
                    "--rate-limit", "recipient_10m=3", "--allow-countries", "sms=br,PT", "--refuse-line-types",
                    "sms=voip", "--whatsapp-template", "pt-BR=otp_code:pt_BR", "--default-locale", "pt-BR",
                ])
            #expect(changed.status == 0, "\(changed.log)")
            let policy = try #require(try await world.directory.app(id: world.app.id)?.policy)
            #expect(policy.channels == [.sms, .whatsapp] && policy.defaultChannel == .whatsapp)
            #expect(policy.rateLimits["recipient_10m"] == 3)
            #expect(policy.countries[.sms] == .allow(["BR", "PT"]))
            #expect(policy.refusedLineTypes[.sms] == [.voip])
            #expect(policy.messages.whatsAppTemplates["pt-BR"] == WhatsAppTemplate(name: "otp_code", language: "pt_BR"))
            #expect(policy.messages.defaultLocale == "pt-BR")
            for (arguments, reason) in [
                (["--allow-countries", "sms=BRA"], "--allow-countries sms=BRA: countries are two-letter"),
                (["--rate-limit", "per_moon=1"], "--rate-limit per_moon=1: unknown limit per_moon"),
                (["--channels", "sms,fax"], "--channels: unknown channel fax"),
            ] {
                let refused = try await run(world, ["apps", "update", world.app.id] + arguments)
                #expect(refused.status == 1 && refused.log.contains(reason), "\(refused.log)")
            }
        }
    }
}
