import OTPCore
import ServiceLifecycle
import Synchronization
import Tracing

/// Group commit: the requests that arrive while earlier ones are being written go to the database
/// together, as one batch in one transaction (sends and verifies each have one).
///
/// A request that finds no batch in flight goes at once, alone if it is alone (an idle service
/// answers as fast as without batching). The others wait in line and leave together, up to
/// `maxBatch`, when the batch in flight comes back; or, once the last batch has been out for
/// `patience` (a slow batch, a lock wait), in a batch of their own beside it, up to `maxFlushing`
/// in flight. Fewer batches in flight make larger batches that contend less for the same index
/// pages and counter rows, so each request costs less; too few leave the CPU idle while a batch
/// travels. With 3 ms on 2 cores (`bench/run`), sends and verifies went from about 3 to 8 per batch
/// and PostgreSQL's CPU per verify halved; see docs/benchmarks.md.
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
        /// The request's span for this store call, told its batch's size when the batch leaves.
        var span: any Span
    }

    private struct Line {
        var waiting: [Waiting] = []
        var flushing = 0
        /// When the last batch left.
        var lastStart = ContinuousClock.Instant.now
        /// A wake-up is set for when the batch in flight has been out for `patience`.
        var wakeSet = false
        var stopped = false
    }

    /// What the line allows now.
    private enum Turn {
        case go([Waiting])
        case wait
        case wakeAt(ContinuousClock.Instant)
    }

    /// The statement's name in traces (`db.operation.name`).
    private let operation: String
    private let maxBatch: Int
    private let maxFlushing: Int
    private let patience: Duration
    private let flush: Flush
    private let line = Mutex(Line())
    private let nextID = Atomic<UInt64>(0)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(
        operation: String, maxBatch: Int = 32, maxFlushing: Int = 4, patience: Duration = .milliseconds(3),
        flush: @escaping Flush
    ) {
        self.operation = operation
        self.maxBatch = maxBatch
        self.maxFlushing = maxFlushing
        self.patience = patience
        self.flush = flush
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Writes the request with the others in line and answers it; traced as a client span from
    /// getting in line to the answer (with tracing off the span is a no-op).
    func submit(_ request: Request) async throws -> Answer {
        try await withSpan(operation, ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            span.attributes["db.operation.name"] = operation
            return try await enqueue(request, span: span)
        }
    }

    private func enqueue(_ request: Request, span: any Span) async throws -> Answer {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let end = RequestDeadline.end
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { answer in
                // Cancellation is checked under the lock that `onCancel` takes: a request cancelled
                // before it got in line never gets in.
                let refusal: (any Error)? = line.withLock { line in
                    if Task.isCancelled { return CancellationError() }
                    if line.stopped { return StoreUnavailable(reason: "shutting down") }
                    line.waiting.append(Waiting(id: id, request: request, end: end, answer: answer, span: span))
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
            // The wake-ups set for slow batches, cancelled at shutdown (the batches are waited for).
            await withDiscardingTaskGroup { timers in
                await withGracefulShutdownHandler {
                    for await _ in wakeups {
                        turns: while true {
                            switch takeTurn() {
                            case .go(let batch): start(batch, in: &group)
                            case .wait: break turns
                            case .wakeAt(let instant):
                                timers.addTask {
                                    try? await Task.sleep(until: instant, clock: .continuous)
                                    self.line.withLock { $0.wakeSet = false }
                                    self.wake.yield()
                                }
                                break turns
                            }
                        }
                    }
                } onGracefulShutdown: {
                    self.line.withLock { $0.stopped = true }
                    self.wake.finish()
                }
                timers.cancelAll()
            }
            line.withLock { $0.stopped = true }
            while let batch = takeRest() { start(batch, in: &group) }
        }
    }

    private func start(_ batch: [Waiting], in group: inout DiscardingTaskGroup) {
        for waiting in batch { waiting.span.attributes["db.operation.batch.size"] = batch.count }
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

    /// The next batch when one may leave now; otherwise when to look again, if a batch in flight
    /// may turn out slow.
    private func takeTurn() -> Turn {
        let now = ContinuousClock.Instant.now
        return line.withLock { line in
            guard !line.waiting.isEmpty, line.flushing < maxFlushing else { return .wait }
            if line.flushing > 0 {
                let slowAt = line.lastStart + patience
                guard now >= slowAt else {
                    if line.wakeSet { return .wait }
                    line.wakeSet = true
                    return .wakeAt(slowAt)
                }
            }
            return .go(Self.leave(&line, maxBatch: maxBatch, now: now))
        }
    }

    /// At shutdown: what is still in line, whatever is already in flight.
    private func takeRest() -> [Waiting]? {
        line.withLock { line in
            line.waiting.isEmpty ? nil : Self.leave(&line, maxBatch: maxBatch, now: .now)
        }
    }

    private static func leave(_ line: inout Line, maxBatch: Int, now: ContinuousClock.Instant) -> [Waiting] {
        let batch = Array(line.waiting.prefix(maxBatch))
        line.waiting.removeFirst(batch.count)
        line.flushing += 1
        line.lastStart = now
        return batch
    }
}
