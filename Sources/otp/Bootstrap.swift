import Logging
import Metrics
import PostgresNIO
import Prometheus

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
}

/// Runs `body` with a connected pool, and shuts the pool down afterwards.
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
