import Foundation
import OTPCore
import Synchronization

/// A delivery queue in memory, for worker logic without PostgreSQL: claims hand out what was
/// enqueued and not yet claimed, oldest first; finishing records the outcomes.
package final class InMemoryDeliveryQueue: JobQueue {
    package let kind = "delivery"
    private struct State {
        var waiting: [ClaimedDelivery] = []
        var claimed: [Int64: ClaimedDelivery] = [:]
        var finished: [DeliveryOutcome] = []
    }

    private let state = Mutex(State())

    package init() {}

    package func enqueue(_ delivery: ClaimedDelivery) { state.withLock { $0.waiting.append(delivery) } }

    package var outcomes: [DeliveryOutcome] { state.withLock { $0.finished } }

    package func claim(limit: Int, lease: Duration, workerID: String) async throws -> [ClaimedDelivery] {
        state.withLock { state in
            let taken = Array(state.waiting.prefix(limit))
            state.waiting.removeFirst(taken.count)
            for delivery in taken { state.claimed[delivery.id] = delivery }
            return taken
        }
    }

    package func finish(_ outcomes: [DeliveryOutcome], workerID: String) async throws {
        state.withLock { state in
            for outcome in outcomes { state.claimed[outcome.delivery.id] = nil }
            state.finished += outcomes
        }
    }

    /// Leases never run out here: nothing to requeue.
    package func requeueExpiredLeases() async throws -> Int { 0 }

    package func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double) {
        state.withLock { ($0.waiting.count, 0) }
    }

    /// No notifications: the worker polls.
    package func listenForWork(_ wake: @Sendable () -> Void) async throws {
        try await Task.sleep(for: .seconds(86_400))
    }
}
