import Logging
import OTPCore
import ServiceLifecycle
import Synchronization

/// The figures routing by conversion orders providers by, refreshed from the database every
/// `refreshInterval` by `run()` (a worker runs it beside its deliveries; each worker reads them
/// itself, so nothing is shared between workers but the database).
package final class ConversionRoutes: Sendable {
    package let rules: ConversionRouting
    let source: any ConversionFiguresSource
    let refreshInterval: Duration
    let logger: Logger
    private let figures = Mutex<[ConversionRouting.Scope: [String: ConversionRouting.Figures]]>([:])

    package init(
        rules: ConversionRouting, source: any ConversionFiguresSource, refreshInterval: Duration = .seconds(30),
        logger: Logger
    ) {
        self.rules = rules
        self.source = source
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// The order of `providers` for one delivery to `country`.
    func order(_ providers: [String], channel: MessageChannel, country: String, deliveryID: Int64) -> [String] {
        let scope = figures.withLock { $0[ConversionRouting.Scope(channel: channel, country: country)] } ?? [:]
        return rules.order(rules.ranked(providers, figures: scope), deliveryID: deliveryID)
    }

    /// Reads the figures now (a failed read keeps the last ones: routing goes on with what it knew).
    package func refresh() async {
        do {
            let latest = try await source.figures(window: rules.window, grace: rules.verifyGrace)
            figures.withLock { $0 = latest }
        } catch {
            logger.warning("routing figures not read; keeping the last ones", metadata: ["error": "\(error)"])
        }
    }

    /// Refreshes until cancelled or the graceful shutdown, which the worker's other tasks end on too.
    func run() async {
        try? await cancelWhenGracefulShutdown {
            while true {
                await self.refresh()
                try await Task.sleep(for: self.refreshInterval)
            }
        }
    }
}
