import Logging
import OTPCore
import PostgresNIO
import ServiceLifecycle

/// Wakes the delivery workers after new deliveries were committed.
///
/// The NOTIFY goes out after the sending transaction, not inside it: from a NOTIFY to its commit
/// PostgreSQL holds one lock for the whole database, so sends notifying inside their transactions
/// commit one at a time instead of sharing disk flushes. It goes from this service, never from a
/// request (whose answer must not wait for it), and at most once per `interval`: a woken worker
/// claims everything queued by then, and polls every second for anything a skipped NOTIFY would
/// have announced.
final class WorkNotifier: Service, Sendable {
    let client: PostgresClient
    let logger: Logger
    let interval: Duration
    private let pokes: AsyncStream<Void>
    private let poke: AsyncStream<Void>.Continuation

    init(client: PostgresClient, logger: Logger, interval: Duration = .milliseconds(5)) {
        self.client = client
        self.logger = logger
        self.interval = interval
        (pokes, poke) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a NOTIFY soon; returns at once.
    func notify() { poke.yield() }

    func run() async throws {
        for await _ in pokes.cancelOnGracefulShutdown() {
            // Bounded: a NOTIFY stranded on a closed connection is left behind, not waited for.
            _ = try? await Deadline(.seconds(2)).run {
                try await DatabaseFaults.mapping {
                    try await self.client.query(
                        "SELECT pg_notify(\(PostgresDeliveryQueue.channel), '')", logger: self.logger)
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
