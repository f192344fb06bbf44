import Foundation
import OTPCore
import OTPProviders
import OTPServices
import OTPWorker
import Testing

/// The operator's provider variables as `otp work` reads them.
@Suite struct ProviderSetupTests {
    /// `deploy/env.example`, read as systemd's EnvironmentFile would be.
    static func exampleEnvironment() throws -> [String: String] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/env.example")
        var environment: [String: String] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        where !line.hasPrefix("#") && line.contains("=") {
            let parts = line.split(separator: "=", maxSplits: 1)
            environment[String(parts[0])] = String(parts[1])
        }
        return environment
    }

    @Test func theExampleEnvironmentBuildsAProviderForEveryChannelAndRoutesByConversion() async throws {
        let settings = Settings(environment: try Self.exampleEnvironment())
        #expect(try settings.routing() != nil)
        try await ProviderSetup.withHTTPClient { http in
            let chains = try ProviderSetup(settings: settings, httpClient: http).chains()
            #expect(chains.provider(for: .sms, attempt: 1)?.name == "twilio")
            #expect(chains.provider(for: .sms, attempt: 2)?.name == "kannel")
            #expect(chains.provider(for: .whatsapp, attempt: 1)?.name == "meta")
            #expect(chains.provider(for: .voice, attempt: 1)?.name == "twilio")
        }
    }

    @Test func providersOnAChannelTheyCannotCarryAndBadRoutingAreRefused() async throws {
        try await ProviderSetup.withHTTPClient { http in
            var environment = try Self.exampleEnvironment()
            environment["OTP_VOICE_PROVIDERS"] = "meta"
            #expect(throws: SettingsError.self) {
                try ProviderSetup(settings: Settings(environment: environment), httpClient: http).chains()
            }
            environment["OTP_VOICE_PROVIDERS"] = "kannel"
            #expect(throws: SettingsError.self) {
                try ProviderSetup(settings: Settings(environment: environment), httpClient: http).chains()
            }
        }
        for (name, value) in [
            ("OTP_ROUTING", "fastest"), ("OTP_ROUTING_EXPLORATION", "0.9"), ("OTP_ROUTING_MIN_SENDS", "0"),
        ] {
            var environment = ["OTP_ROUTING": "conversion"]
            environment[name] = value
            #expect(throws: SettingsError.self, "\(name)=\(value)") { try Settings(environment: environment).routing() }
        }
        #expect(try Settings(environment: [:]).routing() == nil)
    }
}
