import OTPCore
import Synchronization

/// Collects job outcomes and records them in batches: whatever finishes while one batch is
/// being written goes into the next statement (QUEUE.md: acknowledge completions in batches). An
/// idle worker writes each outcome at once; a busy one writes many per statement.
///
/// `record` returns once the outcome's batch has been written (or has failed: the lease then runs
/// out and the job is tried again), so a job holds its slot until it is recorded.
final class OutcomeBatcher<Outcome: Sendable>: Sendable {
    private struct State {
        var waiting: [(outcome: Outcome, written: CheckedContinuation<Void, Never>)] = []
        var closed = false
    }

    let maximumBatch: Int
    private let state = Mutex(State())
    private let bell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    init(maximumBatch: Int) {
        self.maximumBatch = maximumBatch
        (bell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Outcomes handed in and not yet written.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    func record(_ outcome: Outcome) async {
        await withCheckedContinuation { written in
            let accepted = state.withLock { state in
                guard !state.closed else { return false }
                state.waiting.append((outcome, written))
                return true
            }
            if accepted { ring.yield() } else { written.resume() }
        }
    }

    /// Writes batches with `write` until `close` (or cancellation), then writes what is left.
    func run(write: ([Outcome]) async -> Void) async {
        for await _ in bell { await writeWaiting(write) }
        state.withLock { $0.closed = true }
        await writeWaiting(write)
    }

    /// No more outcomes will come: `run` writes the last ones and returns.
    func close() {
        ring.finish()
    }

    private func writeWaiting(_ write: ([Outcome]) async -> Void) async {
        while true {
            let batch = state.withLock { state in
                let batch = state.waiting.prefix(maximumBatch)
                state.waiting.removeFirst(batch.count)
                return Array(batch)
            }
            if batch.isEmpty { return }
            await write(batch.map(\.outcome))
            for entry in batch { entry.written.resume() }
        }
    }
}
