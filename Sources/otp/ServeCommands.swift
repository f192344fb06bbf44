import ArgumentParser
import AsyncHTTPClient
import Logging
import OTPAPI
import OTPHTTP
import OTPServices
import OTPWorker
import PostgresNIO
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the HTTP API (stateless: run as many as you like).")

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let registry = Bootstrap.metrics()
        let tracing = try Bootstrap.tracing(settings, service: "otp-serve")
        let listener = try settings.httpListener()
        let services = try Services.build(settings)
        try await services.run(
            [tracing].compactMap { $0 }
                + services.api(
                    listener, receipts: settings.receiptSettings(),
                    trustedProxies: TrustedProxies(settings.value("OTP_TRUSTED_PROXIES") ?? ""), metrics: registry))
    }
}

struct WorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "work", abstract: "Send queued deliveries and apps' status webhooks (run as many as you like).")

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
        let registry = Bootstrap.metrics()
        let tracing = try Bootstrap.tracing(settings, service: "otp-work")
        let metricsAddress = try settings.metricsAddress()
        // A worker's writes are acknowledgements: if PostgreSQL crashed before flushing the last few
        // hundred milliseconds of them, those deliveries would be claimed and sent again after
        // their lease: a duplicate message, never a lost one. Not waiting for each flush lets one
        // worker record thousands of outcomes a second instead of one per disk flush.
        let services = try Services.build(settings) { database in
            database.options.additionalStartupParameters.append(("synchronous_commit", "off"))
        }
        try await ProviderSetup.withHTTPClient { httpClient in
            let chains = try ProviderSetup(settings: settings, httpClient: httpClient).chains()
            var running: [any Service] = [tracing].compactMap { $0 }
            running += [
                services.worker(
                    chains: chains, configuration: .init(concurrency: concurrency, lease: .seconds(lease))),
                services.webhookWorker(configuration: .init(lease: .seconds(lease))),
            ]
            if let metricsAddress { running.append(services.metricsListener(registry, at: metricsAddress)) }
            try await services.run(running)
        }
    }
}

/// `bench/run`'s floor server (`FloorServer`): hidden, for benchmarks only.
struct BenchFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-floor",
        abstract: "Benchmark only: POST /otp/send on otp's stack with no auth, rules or crypto (never in production).",
        shouldDisplay: false)

    @Option(help: "The app whose rows it writes.") var app: String

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let listener = try settings.httpListener()
        let services = try Services.build(settings)
        try await services.run(
            FloorServer(services: services, appID: app).services(host: listener.host, port: listener.port))
    }
}
