import OTPCore
import ServiceLifecycle
import Synchronization

/// Group commit: the requests that arrive while earlier ones are being written go to the database
/// together, as one batch in one transaction (sends and verifies each have one).
///
/// No request waits for a timer: while fewer than `maxFlushing` batches are in flight, a request
/// goes at once, alone if it is alone (an idle service answers as fast as without batching); the
/// others wait in line and leave together, up to `maxBatch`, when a batch in flight comes back.
///
/// The flushes run in this service's task group (`run`), in the process's service group. A request
/// cancelled while in line (its deadline passed) leaves the line and is never written; once its
/// batch is being written, it waits for that batch's outcome. Its answer is the truth either way:
/// a `503` was not written, a `202` was.
final class GroupCommit<Request: Sendable, Answer: Sendable>: Service, Sendable {
    /// Writes one batch and answers each request in its order; `end` is the earliest deadline of
    /// the batch's requests, if any has one.
    typealias Flush =
        @Sendable (_ batch: [Request], _ end: ContinuousClock.Instant?) async -> [Result<Answer, any Error>]

    private struct Waiting {
        var id: UInt64
        var request: Request
        var end: ContinuousClock.Instant?
        var answer: CheckedContinuation<Answer, any Error>
    }

    private struct Line {
        var waiting: [Waiting] = []
        var flushing = 0
        var stopped = false
    }

    private let maxBatch: Int
    private let maxFlushing: Int
    private let flush: Flush
    private let line = Mutex(Line())
    private let nextID = Atomic<UInt64>(0)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(maxBatch: Int = 32, maxFlushing: Int = 4, flush: @escaping Flush) {
        self.maxBatch = maxBatch
        self.maxFlushing = maxFlushing
        self.flush = flush
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func submit(_ request: Request) async throws -> Answer {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let end = RequestDeadline.end
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { answer in
                // Cancellation is checked under the lock that `onCancel` takes: a request cancelled
                // before it got in line never gets in.
                let refusal: (any Error)? = line.withLock { line in
                    if Task.isCancelled { return CancellationError() }
                    if line.stopped { return StoreUnavailable(reason: "shutting down") }
                    line.waiting.append(Waiting(id: id, request: request, end: end, answer: answer))
                    return nil
                }
                if let refusal { answer.resume(throwing: refusal) } else { wake.yield() }
            }
        } onCancel: {
            let left = line.withLock { line -> Waiting? in
                guard let index = line.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return line.waiting.remove(at: index)
            }
            left?.answer.resume(throwing: CancellationError())
        }
    }

    /// Starts a batch whenever one may go, until shutdown; then writes what is still in line and
    /// ends when every batch has its answers.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await _ in wakeups {
                    while let batch = takeBatch(ignoringLimit: false) { start(batch, in: &group) }
                }
            } onGracefulShutdown: {
                self.line.withLock { $0.stopped = true }
                self.wake.finish()
            }
            line.withLock { $0.stopped = true }
            while let batch = takeBatch(ignoringLimit: true) { start(batch, in: &group) }
        }
    }

    private func start(_ batch: [Waiting], in group: inout DiscardingTaskGroup) {
        group.addTask {
            let ends = batch.compactMap(\.end)
            var answers = await self.flush(batch.map(\.request), ends.min())
            // One answer for each, whatever the flush did: a request left waiting would hang.
            while answers.count < batch.count { answers.append(.failure(PostgresStoreError.noRowReturned)) }
            for (waiting, answer) in zip(batch, answers) { waiting.answer.resume(with: answer) }
            self.line.withLock { $0.flushing -= 1 }
            self.wake.yield()
        }
    }

    private func takeBatch(ignoringLimit: Bool) -> [Waiting]? {
        line.withLock { line in
            guard !line.waiting.isEmpty, ignoringLimit || line.flushing < maxFlushing else { return nil }
            let batch = Array(line.waiting.prefix(maxBatch))
            line.waiting.removeFirst(batch.count)
            line.flushing += 1
            return batch
        }
    }
}
