import Hummingbird
import Logging
import OTPAPI
import OTPCore
import OTPPhoneNumbers
import OTPPostgres
import OTPProviders
import OTPWorker
import PostgresNIO
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Builds the long-running parts from configuration and runs them as one service group.
struct ServiceStack {
    let client: PostgresClient
    let keys: ServerKeys
    let logger: Logger

    func api(
        host: String, port: Int, metrics: PrometheusCollectorRegistry?, receipts: ReceiptSettings,
        trustedProxies: TrustedProxies
    ) -> some Service {
        // A database that is down answers requests with 503 after this long, not never.
        let deadline = Deadline(.seconds(5), sleep: EventLoopTimer.sleep)
        let store = TimeBoundVerificationStore(
            PostgresVerificationStore(client: client, logger: Logger(label: "otp.store")), deadline: deadline)
        let templates = TimeBoundTemplateStore(
            PostgresTemplateStore(client: client, logger: Logger(label: "otp.store")), deadline: deadline)
        let directory = TimeBoundAccessDirectory(
            PostgresDirectory(client: client, logger: Logger(label: "otp.store")), deadline: deadline)
        // Without its sql/ folder the service cannot tell whether the schema is current: say so once
        // here, and /readyz answers 503.
        let migrationFiles: [MigrationFile]
        do {
            migrationFiles = try MigrationFile.loadDefault()
        } catch {
            logger.error("cannot read the migrations; /readyz will answer 503", metadata: ["error": "\(error)"])
            migrationFiles = []
        }
        let migrator = Migrator(client: client, files: migrationFiles, logger: Logger(label: "otp.migrate"))
        var metricsText: (@Sendable () -> String)? = nil
        if let metrics { metricsText = { metrics.emitToString() } }
        var dependencies = APIDependencies(
            directory: directory,
            service: VerificationService(
                store: store, templates: templates, codes: RandomCodeGenerator(), keys: keys,
                numbers: LibPhoneNumberParser()),
            apiSecrets: APIKeySecrets(keys: keys),
            management: TimeBoundManagementStore(
                PostgresManagementStore(client: client, logger: Logger(label: "otp.store")), deadline: deadline),
            templates: templates,
            receipts: TimeBoundReceiptStore(
                PostgresReceiptStore(client: client, logger: Logger(label: "otp.store")), deadline: deadline),
            receiptSettings: receipts,
            isReady: {
                guard !migrationFiles.isEmpty else { return false }
                let deadline = Deadline(.seconds(2), sleep: EventLoopTimer.sleep)
                return (try? await deadline.run { try await migrator.pending().isEmpty }) ?? false
            },
            metricsText: metricsText)
        dependencies.trustedProxies = trustedProxies
        return buildApplication(dependencies, host: host, port: port, logger: Logger(label: "otp.api"))
    }

    func worker(routes: ProviderChains, concurrency: Int, lease: Duration = .seconds(30)) -> DeliveryWorker {
        DeliveryWorker(
            queue: PostgresDeliveryQueue(client: client, logger: Logger(label: "otp.worker")), routes: routes,
            sealer: CodeSealer(keys: keys), configuration: .init(concurrency: concurrency, lease: lease),
            logger: Logger(label: "otp.worker"))
    }

    /// Runs the pool first and the given services after it; SIGTERM or SIGINT stops them in reverse.
    func run(_ services: [any Service]) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: PostgresPool(client: client))] + services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A database call abandoned at its deadline may hold the pool open; shutdown still ends:
        // 25 s for the work in flight (a provider call takes at most 15 s), then cancellation.
        configuration.maximumGracefulShutdownDuration = .seconds(25)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }
}

/// The pool as a service: it must run for queries to go out.
struct PostgresPool: Service {
    let client: PostgresClient

    func run() async throws {
        await client.run()
    }
}

/// Runs `action` every `interval` until shutdown: the in-process scheduler of `otp dev`.
struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let action: @Sendable () async throws -> Void

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await action()
            } catch {
                logger.warning(
                    "scheduled job failed", metadata: ["job": "\(name)", "error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
