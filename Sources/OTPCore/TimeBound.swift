/// The store did not answer in time: the database is away or overloaded. Answered as 503.
package struct StoreUnavailable: Error, Equatable, CustomStringConvertible {
    /// In one line, for the log: "connection refused", "no answer in time".
    package var reason: String

    package init(reason: String = "no answer in time") { self.reason = reason }

    package var description: String { reason }
}

/// A time limit on work that waits for the database: past it the work is cancelled, and once it has
/// ended, a failure is reported as `StoreUnavailable`.
///
/// Structured: the work runs as a child task and is always waited for, so its answer is the truth.
/// Work that succeeds after the limit (a write whose COMMIT was already on its way) answers with
/// its success, never with a `503` for something that was written. The pool's leases end when
/// cancelled; a call PostgresNIO may strand goes through `AbandonableCalls`, which returns when
/// cancelled.
package struct Deadline: Sendable {
    package var limit: Duration
    /// Waits for a duration, and ends at once when its task is cancelled. `Task.sleep` does, but on
    /// Linux a cancelled one keeps its memory until its time has passed; a busy server, whose every
    /// timer is cancelled after a few milliseconds, passes a timer it can take back.
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        _ limit: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.limit = limit
        self.sleep = sleep
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case answer(Result<Value, any Error>)
        case timeUp
        case timerStopped
    }

    /// Runs `body`; at the limit (or the request's end, when sooner) cancels it, and answers with
    /// what it answers once it has ended: its value, or for a failure after the limit
    /// `StoreUnavailable`.
    package func run<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        var limit = limit
        if let end = RequestDeadline.end {
            limit = min(limit, ContinuousClock.now.duration(to: end))
            guard limit > .zero else { throw StoreUnavailable() }
        }
        let sleep = sleep
        let (result, timedOut) = await withTaskGroup(of: Outcome<Value>.self) { group in
            group.addTask {
                do {
                    return .answer(.success(try await body()))
                } catch {
                    return .answer(.failure(error))
                }
            }
            group.addTask { [limit] in (try? await sleep(limit)) == nil ? .timerStopped : .timeUp }
            var timedOut = false
            while let next = await group.next() {
                switch next {
                case .answer(let result):
                    group.cancelAll()
                    return (result, timedOut)
                case .timeUp:
                    timedOut = true
                    group.cancelAll()
                case .timerStopped:
                    continue
                }
            }
            return (Result<Value, any Error>.failure(StoreUnavailable()), true)
        }
        if timedOut, case .failure = result { throw StoreUnavailable() }
        return try result.get()
    }
}

/// When the request being served must have its answer, set for the whole of its handling: every
/// `Deadline` inside it ends by then at the latest, and a send or verify waiting for its group
/// commit gives up its place in line then.
package enum RequestDeadline {
    @TaskLocal package static var end: ContinuousClock.Instant?

    /// Whether the request being served is past its deadline (its work is being cancelled).
    package static var hasPassed: Bool { end.map { ContinuousClock.now >= $0 } ?? false }
}
