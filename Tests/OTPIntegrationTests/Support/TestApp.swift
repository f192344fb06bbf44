import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import OTPAPI
import OTPCore
import OTPHTTP
import OTPPhoneNumbers
import OTPPostgres
import OTPProviders
import OTPServices
import OTPTesting
import PostgresNIO
import Synchronization
import Testing

/// One test's world: its own account, app and key on the shared database, and the real router.
struct TestApp {
    /// As the schema's owner: for setting up and inspecting.
    let client: PostgresClient
    /// As the runtime role, like `otp serve` and `otp work`: what the code under test uses.
    let runtimeClient: PostgresClient
    /// The runtime role's URL, for the processes a test starts.
    let databaseURL: String
    /// The owner's URL, for the commands that run as the owner (`OTP_MIGRATE_DATABASE_URL`).
    let ownerURL: String
    /// `keys` as `OTP_SECRET_KEY` would give them, for processes the test starts.
    let secretKey: String
    var keys: ServerKeys
    let directory: PostgresDirectory
    let app: App
    let keyID: String
    let secret: String
    let codes: ScriptedCodes
    let logs: LogCapture
    let migrations: [MigrationFile]
    /// `OTP_RATE_CARD` as the test sets it.
    var rateCard = RateCard.none
    var receiptSettings = ReceiptSettings(
        twilioAuthToken: "twilio-test-token", twilioCallbackURL: "https://otp.example.com/webhooks/twilio/status",
        metaAppSecret: "meta-test-secret", metaVerifyToken: "meta-verify", kannelReceiptSecret: "kannel-test-secret")

    var basicAuth: HTTPFields {
        [.authorization: "Basic " + Data("\(keyID):\(secret)".utf8).base64EncodedString()]
    }

    /// Runs `body` with a new app (policy changed by `configure`) and a key for it.
    static func with<Result: Sendable>(
        ownDatabase: Bool = false, configure: @Sendable (inout AppPolicy) -> Void = { _ in },
        _ body: @Sendable (TestApp) async throws -> Result
    ) async throws -> Result {
        try await withTestDatabase(ownDatabase: ownDatabase) { client, ownerURL in
            try await withClient(url: runtimeURL(ownerURL)) { runtimeClient in
                let databaseURL = runtimeURL(ownerURL)
                let logs = LogCapture()
                let secretKey = ServerKeys.generateSecret()
                let keys = try ServerKeys(base64: secretKey)
                let directory = PostgresDirectory(client: runtimeClient, logger: logs.logger("otp.test"))
                // Tests of other things send freely; the limit tests set the limits they test.
                var policy = AppPolicy.default
                policy.rateLimits = Dictionary(uniqueKeysWithValues: RateLimitRule.allCases.map { ($0.rawValue, 0) })
                configure(&policy)
                let app = try await directory.createApp(
                    name: "Test", account: "account-" + Identifiers.random(count: 12), policy: policy)
                let key = try await directory.createKey(appIDs: [app.id], secrets: APIKeySecrets(keys: keys))
                let world = TestApp(
                    client: client, runtimeClient: runtimeClient, databaseURL: databaseURL, ownerURL: ownerURL,
                    secretKey: secretKey,
                    keys: keys, directory: directory,
                    app: app, keyID: key.keyID, secret: key.secret, codes: ScriptedCodes(), logs: logs,
                    migrations: try MigrationFile.loadDefault())
                return try await body(world)
            }
        }
    }

    /// The service's own composition on this test's database, with its scripted codes and logs.
    var services: Services {
        var services = Services(client: runtimeClient, keys: keys, migrations: migrations)
        services.codes = codes
        // Thirty suites share two cores here, so a race of fifty requests can queue longer than
        // production's 5 s; the production deadlines are tested through `otp serve` processes.
        services.requestDeadline = .seconds(60)
        let logs = logs
        services.logger = { logs.logger($0) }
        // The tests' webhook receivers listen on loopback, which the operator's setting must allow.
        services.webhookDestinations = OutboundDestinations(
            rules: OutboundGuard(allowedNetworks: [IPNetwork("127.0.0.0/8")!]), resolver: SystemHostResolver())
        services.rateCard = rateCard
        return services
    }

    var dependencies: APIDependencies {
        services.apiDependencies(receipts: receiptSettings)
    }

    /// The production router, called without a socket (or over one on 127.0.0.1 with `.live`, when
    /// the client's address matters).
    func test<Result: Sendable>(
        _ framework: TestingSetup = .router, trustedProxies: TrustedProxies = .none,
        _ body: @Sendable (any TestClientProtocol) async throws -> Result
    ) async throws -> Result {
        var dependencies = dependencies
        dependencies.trustedProxies = trustedProxies
        let application = Application(
            router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: dependencies.backgroundServices, logger: logs.logger("otp.api"))
        return try await application.test(framework) { client in try await body(client) }
    }

    /// Another app of the same account, with or without access for this test's key.
    func sibling() async throws -> App {
        try await directory.createApp(name: "Sibling", account: try await accountName(), policy: .default)
    }

    func accountName() async throws -> String {
        let rows = try await client.query(
            "SELECT name FROM otp.accounts WHERE id = \(app.accountID)", logger: quietLogger)
        for try await name in rows.decode(String.self) { return name }
        throw TestFailure("account missing")
    }

    func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Value.Type = Value.self) async throws
        -> Value
    {
        for try await value in try await client.query(query, logger: quietLogger).decode(Value.self) { return value }
        throw TestFailure("no row")
    }

    /// The first column of every row.
    func rows<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Value.Type = Value.self) async throws
        -> [Value]
    {
        try await client.query(query, logger: quietLogger).decode(Value.self).reduce(into: []) { $0.append($1) }
    }
}

/// A JSON object literal from Swift values, for request bodies.
func jsonBody(_ object: [String: Any]) -> String {
    String(
        decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self
    )
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
