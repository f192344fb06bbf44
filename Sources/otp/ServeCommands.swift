import ArgumentParser
import AsyncHTTPClient
import Logging
import OTPAPI
import OTPPostgres
import OTPWorker
import PostgresNIO

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the HTTP API (stateless: run as many as you like).")

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let registry = Bootstrap.metrics()
        let (host, port) = try settings.httpAddress()
        let logger = Logger(label: "otp")
        let client = PostgresClient(
            configuration: try settings.databaseConfiguration(servesForLong: true), backgroundLogger: logger)
        let stack = ServiceStack(client: client, keys: try settings.serverKeys(), logger: logger)
        try await stack.run([
            stack.api(
                host: host, port: port, metrics: registry, receipts: settings.receiptSettings(),
                trustedProxies: TrustedProxies(settings.value("OTP_TRUSTED_PROXIES") ?? ""))
        ]
        )
    }
}

struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work", abstract: "Send queued deliveries (run as many as you like).")

    @Option(help: "Deliveries in flight at once.")
    var concurrency = 64

    @Option(help: "Seconds a claimed delivery stays this worker's; if it dies, others send it after that.")
    var lease = 30

    func validate() throws {
        guard (1...10_000).contains(concurrency) else { throw CommandError("--concurrency must be 1 to 10000") }
        guard (1...3600).contains(lease) else { throw CommandError("--lease must be 1 to 3600 seconds") }
    }

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        _ = Bootstrap.metrics()
        let logger = Logger(label: "otp")
        var database = try settings.databaseConfiguration(servesForLong: true)
        // A worker's writes are acknowledgements: if PostgreSQL crashed before flushing the last few
        // hundred milliseconds of them, those deliveries would be claimed and sent again after
        // their lease: a duplicate message, never a lost one. Not waiting for each flush lets one
        // worker record thousands of outcomes a second instead of one per disk flush.
        database.options.additionalStartupParameters.append(("synchronous_commit", "off"))
        let client = PostgresClient(configuration: database, backgroundLogger: logger)
        let stack = ServiceStack(client: client, keys: try settings.serverKeys(), logger: logger)
        try await ProviderSetup.withHTTPClient { httpClient in
            let routes = try ProviderSetup(settings: settings, httpClient: httpClient).routes()
            try await stack.run([stack.worker(routes: routes, concurrency: concurrency, lease: .seconds(lease))])
        }
    }
}
