import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OTPAPI
import OTPCore
import OTPDashboard
import OTPHTTP
import OTPPhoneNumbers
import OTPPostgres
import OTPProviders
import OTPWorker
import PostgresNIO
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The one place the service is put together: `serve`, `work`, `dev` and the integration tests all
/// take their stores, API and worker from here.
package struct Services: Sendable {
    package let client: PostgresClient
    /// The replica of `DATABASE_READ_URL`, when set: the management routes (`/otp/list`, `/otp/logs`,
    /// `/otp/attempts`, `/otp/reports`, and the dashboard's lists and charts) read from it. Nothing
    /// that decides a send, a verify or a limit does.
    package var readClient: PostgresClient?
    package let keys: ServerKeys
    package let migrations: [MigrationFile]
    /// `sql/functions/`: readiness waits for them too.
    package var functions: [MigrationFile] = []
    package var codes: any CodeGenerator = RandomCodeGenerator()
    package var numbers: any PhoneNumberParser = LibPhoneNumberParser()
    /// How long a request may wait for the database, all its calls together; past it, 503.
    package var requestDeadline: Duration = .seconds(5)
    /// The logger of each part, by label ("otp.store", "otp.api", ...).
    package var logger: @Sendable (String) -> Logger = { Logger(label: $0) }
    /// Where apps' webhooks may go (`OTP_WEBHOOK_ALLOWED_NETWORKS`): checked when one is saved and
    /// before every delivery.
    package var webhookDestinations = OutboundDestinations(rules: OutboundGuard(), resolver: SystemHostResolver())
    /// What messages cost: prices attempts whose provider reports none, and estimates sends for
    /// apps' spend caps.
    package var rateCard = RateCard.none
    /// Routing by conversion (`OTP_ROUTING=conversion`); nil: providers in their configured order.
    package var routing: ConversionRouting?

    package init(client: PostgresClient, keys: ServerKeys, migrations: [MigrationFile]) {
        self.client = client
        self.keys = keys
        self.migrations = migrations
    }

    /// From the operator's configuration: a pool on `DATABASE_URL` (as `configure` adjusts it), the
    /// key ring (unless `keys` is given), and the migrations the schema must match. Missing
    /// migrations stop the start with one line: without them the service cannot tell whether the
    /// schema is current.
    package static func build(
        _ settings: Settings, keys: ServerKeys? = nil,
        configure: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) throws -> Services {
        var database = try settings.databaseConfiguration(servesForLong: true)
        configure(&database)
        let folder = MigrationFile.defaultDirectory()
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw SettingsError.invalid("OTP_MIGRATIONS_DIR", "no migrations: \(folder.path) does not exist")
        }
        let migrations = try MigrationFile.load(from: folder)
        guard !migrations.isEmpty else {
            throw SettingsError.invalid("OTP_MIGRATIONS_DIR", "no migrations in \(folder.path)")
        }
        let logger = Logger(label: "otp")
        var services = Services(
            client: PostgresClient(configuration: database, backgroundLogger: logger),
            keys: try keys ?? settings.serverKeys(),
            migrations: migrations)
        services.functions = try MigrationFile.loadFunctions(from: folder)
        services.webhookDestinations = try settings.webhookDestinations()
        services.rateCard = try settings.rateCard()
        services.routing = try settings.routing()
        if var replica = try settings.readReplicaConfiguration() {
            configure(&replica)
            services.readClient = PostgresClient(configuration: replica, backgroundLogger: logger)
        }
        return services
    }

    /// Every store of the API (each request's calls bounded by its deadline); keys and apps through
    /// `directoryCache` when given (its listener must run beside the API), and the group-commit
    /// flushers in `backgroundServices`.
    package func apiDependencies(
        receipts: ReceiptSettings, trustedProxies: TrustedProxies = .none, metrics: PrometheusCollectorRegistry? = nil,
        directoryCache: CachedAccessDirectory? = nil
    ) -> APIDependencies {
        let storeLogger = logger("otp.store")
        let store = PostgresVerificationStore(client: client, logger: storeLogger)
        let templates = PostgresTemplateStore(client: client, logger: storeLogger)
        let migrator = Migrator(
            client: client, files: migrations, functions: functions, logger: logger("otp.migrate"))
        let readiness = Deadline(.seconds(2), sleep: EventLoopTimer.sleep)
        var metricsText: (@Sendable () -> String)? = nil
        if let metrics { metricsText = { metrics.emitToString() } }
        var service = VerificationService(
            store: store, templates: templates, codes: codes, keys: keys, numbers: numbers)
        service.rateCard = rateCard
        var dependencies = APIDependencies(
            directory: directoryCache ?? directory(),
            service: service,
            apiSecrets: APIKeySecrets(keys: keys),
            management: PostgresManagementStore(client: readClient ?? client, logger: storeLogger),
            templates: templates,
            receipts: PostgresReceiptStore(client: client, logger: storeLogger),
            receiptSettings: receipts,
            isReady: { (try? await readiness.run { try await migrator.pending().isEmpty }) ?? false },
            metricsText: metricsText)
        dependencies.trustedProxies = trustedProxies
        dependencies.requestDeadline = requestDeadline
        dependencies.sleep = EventLoopTimer.sleep
        dependencies.backgroundServices = store.flushers
        return dependencies
    }

    /// Keys and apps as every request reads them.
    package func directory() -> any AccessDirectory {
        PostgresDirectory(client: client, logger: logger("otp.store"))
    }

    /// The dashboard on the API's own stores and services, plus its users and the account administration.
    package func dashboardDependencies(api: APIDependencies) -> DashboardDependencies {
        let storeLogger = logger("otp.store")
        return DashboardDependencies(
            users: PostgresDashboardUsers(client: client, logger: storeLogger),
            administration: PostgresAccountAdministration(
                client: client, logger: storeLogger, secrets: APIKeySecrets(keys: keys)),
            management: api.management, templates: api.templates, service: api.service, keys: keys,
            webhookDestinations: webhookDestinations)
    }

    /// The HTTP API and, under `/dashboard/`, the dashboard; with the listener that keeps the
    /// in-process cache of keys and apps in step with the database.
    package func api(
        _ listener: HTTPListenerSettings, receipts: ReceiptSettings, trustedProxies: TrustedProxies,
        metrics: PrometheusCollectorRegistry?
    ) -> [any Service] {
        let cache = CachedAccessDirectory(directory())
        var dependencies = apiDependencies(
            receipts: receipts, trustedProxies: trustedProxies, metrics: metrics, directoryCache: cache)
        dependencies.metricsOnOwnListener = listener.metricsAddress != nil
        let dashboard = Dashboard(dashboardDependencies(api: dependencies))
        // The flushers before the listener: the group stops the listener (and its requests) first.
        var services: [any Service] =
            dependencies.backgroundServices + [
                DirectoryChangeListener(client: client, cache: cache, logger: logger("otp.api")),
                buildApplication(
                    dependencies, host: listener.host, port: listener.port, idleTimeout: listener.idleTimeout,
                    logger: logger("otp.api"), addingRoutes: dashboard.addRoutes),
            ]
        if let address = listener.metricsAddress, let metrics {
            services.append(metricsListener(metrics, at: address))
        }
        return services
    }

    /// `/metrics` alone on `address`: how Prometheus reads a worker, which serves nothing else.
    package func metricsListener(_ metrics: PrometheusCollectorRegistry, at address: (host: String, port: Int))
        -> any Service
    {
        buildMetricsApplication(
            metricsText: { metrics.emitToString() }, host: address.host, port: address.port,
            logger: logger("otp.metrics"))
    }

    package func worker(chains: ProviderChains, configuration: DeliveryWorker.Configuration) -> DeliveryWorker {
        var configuration = configuration
        configuration.rateCard = rateCard
        configuration.placement = EventLoopSpread.jobs
        let storeLogger = logger("otp.store")
        var chains = chains
        if let routing, chains.routes == nil {
            chains.routes = ConversionRoutes(
                rules: routing, source: PostgresConversionFigures(client: client, logger: storeLogger),
                logger: logger("otp.worker"))
        }
        let directory = PostgresDirectory(client: client, logger: storeLogger)
        // Sends requested from SQL get their code and message by the API's own rules.
        let service = VerificationService(
            store: PostgresVerificationStore(client: client, logger: storeLogger),
            templates: PostgresTemplateStore(client: client, logger: storeLogger), codes: codes, keys: keys,
            numbers: numbers)
        return DeliveryWorker(
            queue: PostgresDeliveryQueue(client: client, logger: logger("otp.worker")), chains: chains,
            sealer: CodeSealer(keys: keys), configuration: configuration, logger: logger("otp.worker"),
            requestedSends: RequestedSendPreparation(
                service: service, app: { try await directory.app(id: $0) },
                store: PostgresRequestedSends(client: client, logger: storeLogger)),
            receiptsPass: ReceiptsPass(
                sandbox: PostgresSandboxMessages(client: client, logger: storeLogger),
                receipts: PostgresReceiptStore(client: client, logger: storeLogger), logger: logger("otp.worker")))
    }

    /// The sender of apps' status webhooks to the destinations `webhookDestinations` allows (no
    /// redirects; each POST bounded to 10 s).
    package func webhookWorker(configuration: WebhookWorker.Configuration = .init()) -> WebhookWorker {
        var configuration = configuration
        configuration.placement = EventLoopSpread.jobs
        return WebhookWorker(
            queue: PostgresWebhookQueue(client: client, logger: logger("otp.worker")),
            poster: AppWebhookPoster(destinations: webhookDestinations), sealer: CodeSealer(keys: keys),
            configuration: configuration, logger: logger("otp.worker"))
    }

    /// Runs the pool first, then the runner of calls a request may stop waiting for, then the given
    /// services; SIGTERM or SIGINT stops them in reverse.
    package func run(_ services: [any Service]) async throws {
        let calls = AbandonableCalls()
        var configuration = ServiceGroupConfiguration(
            services: ([client] + (readClient.map { [$0] } ?? [])).map { .init(service: PostgresPool(client: $0)) }
                + [.init(service: AbandonableCallsService(calls: calls, leaveStranded: exitLeaving))]
                + services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger("otp"))
        // A query on a connection that stopped answering may hold the pool open; shutdown still ends:
        // 25 s for the work in flight (a provider call takes at most 15 s), then cancellation.
        configuration.maximumGracefulShutdownDuration = .seconds(25)
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        // Every task of the group, requests included, runs its database calls through `calls`.
        try await AbandonableCalls.$current.withValue(calls) { try await group.run() }
    }

    /// Ends the process once everything but `stranded` database calls has stopped: those calls
    /// wait on connections that closed under them and were answered `503` long ago.
    private func exitLeaving(stranded: Int) {
        logger("otp").warning(
            "stopping with database calls that lost their connection still waiting; nothing else was in flight",
            metadata: ["calls": "\(stranded)"])
        exit(EXIT_SUCCESS)
    }
}

/// The runner of abandonable calls as a service: it takes calls until shutdown, then gives those in
/// flight `patience` to end. A call PostgresNIO stranded never ends and would hold the service group
/// until its cancellation timeout crashes the process; every such call was already abandoned by its
/// caller (answered), so `leaveStranded` ends the process cleanly instead.
package struct AbandonableCallsService: Service {
    let calls: AbandonableCalls
    let patience: Duration
    let leaveStranded: @Sendable (_ count: Int) -> Void

    package init(
        calls: AbandonableCalls, patience: Duration = .seconds(5), leaveStranded: @escaping @Sendable (Int) -> Void
    ) {
        self.calls = calls
        self.patience = patience
        self.leaveStranded = leaveStranded
    }

    package func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await calls.run() }
            group.addTask {
                try? await gracefulShutdown()
                calls.finish()
                let stranded = await calls.settle(within: patience)
                if stranded > 0 { leaveStranded(stranded) }
            }
        }
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
package struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let action: @Sendable () async throws -> Void

    package init(name: String, interval: Duration, logger: Logger, action: @escaping @Sendable () async throws -> Void)
    {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.action = action
    }

    package func run() async throws {
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
