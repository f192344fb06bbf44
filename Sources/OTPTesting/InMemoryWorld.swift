import Foundation
import OTPAPI
import OTPCore

/// An account, an app and its key over in-memory ports: the router's whole HTTP logic with no
/// database. Codes come from `codes` when a test pushes them.
package struct InMemoryWorld: Sendable {
    package let keys: ServerKeys
    package let clock: TestClock
    package let directory: InMemoryDirectory
    package let store: InMemoryVerificationStore
    package let templates: InMemoryTemplateStore
    package let receipts: InMemoryReceiptStore
    package let codes: ScriptedCodes
    package let numbers: FixtureNumbers
    package let app: App
    package let keyID: String
    package let secret: String
    package var receiptSettings = ReceiptSettings(
        twilioAuthToken: "twilio-test-token", twilioCallbackURL: "https://otp.example.com/webhooks/twilio/status",
        metaAppSecret: "meta-test-secret", metaVerifyToken: "meta-verify")

    /// A world whose app has the policy `configure` makes of the default (limits off unless set).
    package init(numbers: FixtureNumbers = FixtureNumbers(), configure: (inout AppPolicy) -> Void = { _ in }) throws {
        keys = try ServerKeys(base64: ServerKeys.generateSecret())
        clock = TestClock()
        directory = InMemoryDirectory(keys: keys)
        store = InMemoryVerificationStore(clock: clock)
        templates = InMemoryTemplateStore()
        receipts = InMemoryReceiptStore()
        codes = ScriptedCodes()
        self.numbers = numbers
        var policy = AppPolicy.default
        policy.rateLimits = Dictionary(uniqueKeysWithValues: RateLimitRule.allCases.map { ($0.rawValue, 0) })
        configure(&policy)
        app = directory.createApp(name: "Test", accountID: 1, policy: policy)
        (keyID, secret) = try directory.createKey(accountID: 1, appIDs: [app.id])
    }

    package var basicAuthorization: String { "Basic " + Data("\(keyID):\(secret)".utf8).base64EncodedString() }

    package var dependencies: APIDependencies {
        var dependencies = APIDependencies(
            directory: directory,
            service: VerificationService(
                store: store, templates: templates, codes: codes, keys: keys, numbers: numbers),
            apiSecrets: APIKeySecrets(keys: keys), management: InMemoryManagementStore(verifications: store),
            templates: templates, receipts: receipts, receiptSettings: receiptSettings, isReady: { true },
            metricsText: nil)
        // The suites share two cores, and a sign-in's password hash alone can then take seconds;
        // the production deadline is tested through `otp serve` processes.
        dependencies.requestDeadline = .seconds(60)
        return dependencies
    }
}
