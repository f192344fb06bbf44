import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import OTPAPI
import OTPCore
import OTPHTTP
import OTPPostgres
import OTPProviders
import OTPServices
import OTPWorker
import PostgresNIO
import ServiceLifecycle
import UnixSignals

/// Everything in one process on a private PostgreSQL under `.otp/`: API, worker, console provider
/// and the scheduled jobs. Ctrl-C stops all of it, PostgreSQL included.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Run everything locally on an embedded PostgreSQL, printing messages.")

    @Option(help: "Folder for the cluster, the server key and the demo credentials.")
    var directory = ".otp"

    @Flag(help: "Only run the embedded PostgreSQL (migrated), print its DATABASE_URL, and wait for Ctrl-C.")
    var databaseOnly = false

    @Flag(
        help:
            "Listen on OTP_HTTP_ADDRESS even when it is not a loopback address (the demo user's password and key are printed: development only)."
    )
    var allowRemote = false

    func run() async throws {
        let settings = Settings()
        Bootstrap.logging(level: try settings.logLevel())
        let registry = Bootstrap.metrics()
        let tracing = try Bootstrap.tracing(settings, service: "otp-dev")
        let logger = Logger(label: "otp")
        let listener = try settings.httpListener()
        let (host, port) = (listener.host, listener.port)
        let loopback = host == "localhost" || IPAddress(host)?.isLoopback == true
        if !loopback {
            guard allowRemote else {
                throw CommandError(
                    "otp dev listens on loopback only (it has a demo user whose password it prints); "
                        + "OTP_HTTP_ADDRESS is \(host):\(port): pass --allow-remote to listen there anyway")
            }
            logger.warning(
                "otp dev is listening beyond this machine: its demo user and key are for development only",
                metadata: ["address": "\(host):\(port)"])
        }
        let folder = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let keys = try DevState.serverKeys(in: folder, settings: settings)

        logger.info("starting embedded PostgreSQL", metadata: ["directory": "\(folder.path)"])
        let cluster = try EmbeddedPostgres.start(in: folder, passwordProtected: true)
        defer { cluster.stop() }

        let database = try PostgresClient.Configuration(url: cluster.url)
        if databaseOnly {
            try await withPostgres(database, logger: logger) { client in
                let files = try MigrationFile.loadDefault()
                try await Migrator(
                    client: client, files: files, functions: try MigrationFile.loadDefaultFunctions(),
                    logger: Logger(label: "otp.migrate")
                ).migrate()
            }
            FileHandle.standardOutput.write(Data("DATABASE_URL=\(cluster.url)\n".utf8))
            let waiter = ServiceGroup(
                services: [UntilShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
                logger: logger)
            try await waiter.run()
            return
        }
        try await withPostgres(database, logger: logger) { client in
            try await DevState.prepare(
                client: client, folder: folder, keys: keys, host: host, port: port, databaseURL: cluster.url,
                runtimePassword: cluster.passwords?.runtime, logger: logger)
        }
        // The same composition as serve and work, on the cluster's runtime role and this folder's key.
        var environment = settings.environment
        environment["DATABASE_URL"] = cluster.runtimeURL
        // A developer's own receiver runs on this machine: dev lets webhooks reach loopback unless
        // told otherwise (serve and work never do by default).
        environment["OTP_WEBHOOK_ALLOWED_NETWORKS"] =
            settings.value("OTP_WEBHOOK_ALLOWED_NETWORKS") ?? "127.0.0.0/8,::1"
        let services = try Services.build(Settings(environment: environment), keys: keys)
        let client = services.client
        let maintenance = PostgresMaintenance(client: client, logger: Logger(label: "otp.cron"))
        // The console provider unless the environment names real ones.
        let console = ConsoleProvider()
        let namesProviders = MessageChannel.allCases.contains { !settings.providerNames(for: $0).isEmpty }
        try await ProviderSetup.withHTTPClient { httpClient in
            let chains =
                namesProviders
                ? try ProviderSetup(settings: settings, httpClient: httpClient, allowsConsole: true).chains()
                : ProviderChains([.sms: [console], .whatsapp: [console], .voice: [console]])
            try await services.run(
                [tracing].compactMap { $0 }
                    + services.api(
                        listener, receipts: settings.receiptSettings(),
                        trustedProxies: TrustedProxies(settings.value("OTP_TRUSTED_PROXIES") ?? ""), metrics: registry)
                    + [
                        services.worker(chains: chains, configuration: .init(concurrency: 64)),
                        services.webhookWorker(),
                        // The crontab's jobs, on its schedule.
                        PeriodicJob(name: "expire", interval: .seconds(60), logger: logger) {
                            _ = try await maintenance.expire()
                        },
                        PeriodicJob(name: "rollup", interval: .seconds(3600), logger: logger) {
                            let now = Date()
                            _ = try await maintenance.rollup(days: [
                                UTCDay.format(now.addingTimeInterval(-86_400)), UTCDay.format(now),
                            ])
                        },
                        PeriodicJob(name: "audit seal", interval: .seconds(60), logger: logger) {
                            _ = try await AuditTrail(client: client, logger: Logger(label: "otp.cron")).seal()
                        },
                        PeriodicJob(name: "partitions", interval: .seconds(86_400), logger: logger) {
                            _ = try await maintenance.makePartitions()
                        },
                        PeriodicJob(name: "prune", interval: .seconds(86_400), logger: logger) {
                            _ = try await maintenance.prune(olderThanDays: 90)
                        },
                    ])
        }
    }
}

/// Does nothing until told to stop: keeps `otp dev --database-only` up.
struct UntilShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
