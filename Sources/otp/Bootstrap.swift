import Logging
import Metrics
import OTPCore
import OTPPostgres
import OTPServices
import OTel
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Tracing

/// Process-wide set-up; only the executable does this, and only once.
enum Bootstrap {
    static func logging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Sends swift-metrics to a Prometheus registry and returns it, for `/metrics`.
    static func metrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Exports traces over OTLP/HTTP when `settings` ask for it (`Settings.tracesExported`), as
    /// `service` unless `OTEL_SERVICE_NAME` says otherwise; the standard `OTEL_*` variables apply.
    /// Returns the exporter's service, to run first in the service group so that it stops last,
    /// after the spans of the work that stopped before it; nil with tracing off.
    static func tracing(_ settings: Settings, service: String) throws -> (any Service)? {
        guard settings.tracesExported() else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service
        // The exporter's own notes: only what goes wrong (OTEL_LOG_LEVEL says otherwise).
        configuration.diagnosticLogLevel = .warning
        // Traces only: metrics are Prometheus's (`/metrics`), logs go to standard error.
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }
}

/// Runs `body` with a pool on `DATABASE_URL`, and shuts the pool down afterwards. A database that
/// takes no session within `OTP_DATABASE_CONNECT_TIMEOUT` ends the command at once with one line
/// saying where and why, so a cron run never piles up behind an outage.
func withPostgres<Result: Sendable>(
    _ settings: Settings, url: PostgresURL? = nil, logger: Logger,
    _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    let url = try url ?? settings.databaseURL()
    do {
        try await DatabaseReachability.check(url, timeout: try settings.connectTimeout(), logger: logger)
    } catch let unreachable as DatabaseReachability.Unreachable {
        throw CommandError(unreachable.description)
    }
    do {
        let configuration = Settings.pooled(url.clientConfiguration, servesForLong: false)
        return try await withPostgres(configuration, logger: logger, body)
    } catch let error as StoreUnavailable {
        throw CommandError("lost PostgreSQL at \(url): \(error.reason)")
    } catch let error where DatabaseFaults.isUnavailable(error) {
        throw CommandError("lost PostgreSQL at \(url): \(DatabaseFaults.reason(error))")
    }
}

/// Runs `body` with a pool on `configuration`, shut down afterwards.
func withPostgres<Result: Sendable>(
    _ configuration: PostgresClient.Configuration, logger: Logger,
    _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    // The pool's own chatter (reconnect attempts) would drown a command's one line of output.
    var quiet = logger
    quiet.logLevel = .error
    let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
    return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}
