import Logging
import PostgresNIO
import Synchronization

/// Wakes the delivery workers after new deliveries were committed.
///
/// The NOTIFY goes out after the sending transaction, not inside it: from a NOTIFY to its commit
/// PostgreSQL holds one lock for the whole database, so sends notifying inside their transactions
/// commit one at a time instead of sharing disk flushes. And at most once per `interval`: a woken
/// worker claims everything queued by then, and polls every second for anything a skipped NOTIFY
/// would have announced.
final class WorkNotifier: Sendable {
    let client: PostgresClient
    let logger: Logger
    let interval: Duration
    private let lastSent = Mutex<ContinuousClock.Instant?>(nil)

    init(client: PostgresClient, logger: Logger, interval: Duration = .milliseconds(5)) {
        self.client = client
        self.logger = logger
        self.interval = interval
    }

    func notify() async {
        let now = ContinuousClock.now
        let due = lastSent.withLock { last in
            if let previous = last, now - previous < interval { return false }
            last = now
            return true
        }
        guard due else { return }
        _ = try? await client.query("SELECT pg_notify(\(PostgresDeliveryQueue.channel), '')", logger: logger)
    }
}
