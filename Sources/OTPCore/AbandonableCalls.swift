import Synchronization

/// Runs calls to the database so that their caller may stop waiting.
///
/// PostgresNIO (1.33.2) can leave a call waiting forever: when its connection closes between the
/// lease and the write, the write to the closed channel fails with no one to tell the call, and
/// the call ignores cancellation. A structured caller would wait with it, past any deadline. So the
/// service runs such calls as children of its own task group (`run`), and a caller waits for the
/// answer only until it is cancelled (its request's deadline): then it throws `CancellationError`
/// and the call, left to the service, ends whenever PostgresNIO lets it.
///
/// Every store call made through `DatabaseFaults.mapping` runs here: a read left behind costs
/// nothing, and a write left behind (a resend, a change in the dashboard) was answered `503`
/// without knowing its outcome. Sends and verifies are answered by their group commit instead,
/// which leaves a batch only once its outcome is in the database (`WatchedTransaction`).
package final class AbandonableCalls: Sendable {
    private struct Call: Sendable {
        var run: @Sendable () async -> Void
    }

    private let calls: AsyncStream<Call>
    private let submit: AsyncStream<Call>.Continuation
    private let running = Atomic(0)

    package init() {
        (calls, submit) = AsyncStream.makeStream()
    }

    /// The runner of the request or command being served: set around the whole service group, so
    /// every task in it sees it. Absent (tests of one part), calls run in the caller's own task.
    @TaskLocal package static var current: AbandonableCalls?

    /// Runs `body` as a child of `run`'s task group and answers with it, or with
    /// `CancellationError` as soon as the caller is cancelled.
    package func perform<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let answer = OneAnswer<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard answer.wait(continuation) else { return }
                let result = submit.yield(
                    Call {
                        let result: Result<Value, any Error>
                        do {
                            // A call the service runs does not hand its own calls back to it.
                            result = .success(try await AbandonableCalls.$current.withValue(nil) { try await body() })
                        } catch {
                            result = .failure(error)
                        }
                        answer.resolve(result)
                    })
                if case .terminated = result { answer.resolve(.failure(CancellationError())) }
            }
        } onCancel: {
            answer.resolve(.failure(CancellationError()))
        }
    }

    /// Runs the calls until `finish`, then waits for the calls in flight: a stranded one holds it
    /// forever, which is why shutdown asks `settle` first.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for await call in calls {
                running.add(1, ordering: .relaxed)
                group.addTask {
                    await call.run()
                    self.running.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    /// Takes no more calls: `run` ends once those in flight have.
    package func finish() { submit.finish() }

    /// Waits up to `patience` for the calls in flight to end and answers how many have not: the
    /// stranded ones, which nothing but the end of the process will end. Cancellation stops the wait.
    package func settle(within patience: Duration) async -> Int {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: patience)
        while running.load(ordering: .relaxed) > 0, clock.now < end {
            guard (try? await Task.sleep(for: .milliseconds(20))) != nil else { break }
        }
        return running.load(ordering: .relaxed)
    }
}

/// The first answer given to one waiter; later ones are dropped.
private final class OneAnswer<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case answeredEarly(Result<Value, any Error>)
        case waiting(CheckedContinuation<Value, any Error>)
        case done
    }

    private let state = Mutex(State.idle)

    /// False when an answer came first (the caller was already cancelled): it is given at once.
    func wait(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let ready: Result<Value, any Error>? = state.withLock { state in
            guard case .answeredEarly(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .done
            return result
        }
        guard let ready else { return true }
        continuation.resume(with: ready)
        return false
    }

    func resolve(_ result: Result<Value, any Error>) {
        let waiter: CheckedContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .answeredEarly(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .answeredEarly, .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }
}
