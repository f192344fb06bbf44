import Logging
import OTPCore
import PostgresNIO
import Synchronization

/// A group-commit batch's transactions, watched by the flusher while its requests wait.
///
/// Past the batch's deadline the flusher asks `giveUp`: a batch whose transaction has not begun
/// never will (nothing is written); one between transactions, or whose connection has closed, is
/// over, committed or not, and its rows tell which (PostgresNIO may leave a call on a closed
/// connection waiting forever, so the call's own answer may never come). One still writing on a
/// live connection (a lock held elsewhere, a server that stopped answering) is given
/// `writingPatience` past the deadline to send its COMMIT; then it is stopped: its COMMIT never goes
/// out (it rolls back whenever its statement ends), so its rows tell the truth at once. Its call is
/// left to `AbandonableCalls`. Its connection is not closed under it: closing a leased connection
/// left every later test of the suite waiting on PostgresNIO's pool (1.33.2).
///
/// Past the deadline, a COMMIT out for `commitPatience` without an answer is given up with its
/// outcome unknown: a primary cut off from its synchronous standby holds every COMMIT until it is
/// demoted, and a commit it holds may be lost with it.
final class WatchedTransaction: Sendable {
    private enum State {
        case notBegun
        case between
        case givenUp
        case writing(PostgresConnection)
        /// The body is done and its COMMIT is on the wire since then.
        case committing(PostgresConnection, since: ContinuousClock.Instant)
    }

    /// How long a COMMIT without an answer is waited for past the deadline.
    static let commitPatience = Duration.seconds(1)

    /// How long past the deadline a batch may still be writing before it is stopped: long enough
    /// for a lock wait that is about to end, short next to a client's own timeout.
    static let writingPatience = Duration.seconds(3)

    enum Verdict {
        /// No transaction ever began, and none will: nothing was written.
        case nothingWritten
        /// No transaction is open and none will begin: what was written is in the database.
        case over
        /// Still writing on a live connection.
        case writing
        /// Was still writing on a live connection, and is stopped: its COMMIT will not be sent.
        case stopped
        /// Its COMMIT sent on a live connection at `since`, not answered yet.
        case committing(since: ContinuousClock.Instant)
    }

    /// What the flusher learns of a batch's write by its deadline.
    enum Outcome<Answer: Sendable>: Sendable {
        case answered(Answer)
        case nothingWritten
        /// The write was given up with its outcome in the database: read it back.
        case over
        /// The COMMIT did not answer in time: the batch may or may not be written, and may yet be
        /// (or be lost with a demoted primary).
        case unknown
    }

    private let state = Mutex(State.notBegun)

    /// Runs `body` in a transaction on a connection of `client`, unless the flusher gave up before
    /// the connection came: then nothing is written and `StoreUnavailable` is thrown.
    func run<Value: Sendable>(
        client: PostgresClient, logger: Logger, _ body: @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await client.withConnection { connection in
            let begins = state.withLock { state in
                if case .givenUp = state { return false }
                state = .writing(connection)
                return true
            }
            guard begins else { throw StoreUnavailable(reason: "no connection in time") }
            defer {
                state.withLock { state in
                    switch state {
                    case .writing, .committing: state = .between
                    default: break
                    }
                }
            }
            return try await connection.withTransaction(logger: logger) { connection in
                let value = try await body(connection)
                // Decided under the lock `giveUp` takes: a batch the flusher stopped rolls back.
                let commits = state.withLock { state in
                    guard case .writing(let connection) = state else { return false }
                    state = .committing(connection, since: .now)
                    return true
                }
                guard commits else { throw StoreUnavailable(reason: "stopped past its deadline") }
                return value
            }
        }
    }

    /// What the flusher may do now that the deadline passed; after `.nothingWritten`, `.over` or
    /// `.stopped` no transaction begins or commits. A batch still writing is stopped when
    /// `stopWriting`.
    func giveUp(stopWriting: Bool = false) -> Verdict {
        state.withLock { state in
            switch state {
            case .notBegun:
                state = .givenUp
                return .nothingWritten
            case .between, .givenUp:
                state = .givenUp
                return .over
            case .writing(let connection):
                guard connection.isClosed else {
                    guard stopWriting else { return .writing }
                    state = .givenUp
                    return .stopped
                }
                state = .givenUp
                return .over
            case .committing(let connection, let since):
                guard connection.isClosed else { return .committing(since: since) }
                state = .givenUp
                return .over
            }
        }
    }

    /// Gives the batch up with its COMMIT unanswered: no transaction of it begins again.
    func abandonCommit() {
        state.withLock { $0 = .givenUp }
    }

    /// Runs `write` until it answers; past `end`, stops waiting once `giveUp` says the outcome is
    /// known (nothing was written, or what was written is in the database), once a COMMIT has been
    /// out for `commitPatience` unanswered, or once a batch still writing `writingPatience` past
    /// `end` is stopped. `write` goes through `AbandonableCalls` when one is set, so that the wait
    /// can stop.
    static func answer<Answer: Sendable>(
        by end: ContinuousClock.Instant?, logger: Logger,
        _ write: @escaping @Sendable (WatchedTransaction) async -> Answer
    ) async -> Outcome<Answer> {
        let watch = WatchedTransaction()
        guard let end else { return .answered(await write(watch)) }
        return await withTaskGroup(of: Outcome<Answer>?.self) { group in
            group.addTask {
                guard let calls = AbandonableCalls.current else { return .answered(await write(watch)) }
                // Abandoned (the watcher decided first): no answer from here.
                return (try? await calls.perform { await write(watch) }).map { .answered($0) }
            }
            group.addTask {
                guard (try? await Task.sleep(until: end, clock: .continuous)) != nil else { return nil }
                while true {
                    let stopWriting = ContinuousClock.now >= end + writingPatience
                    switch watch.giveUp(stopWriting: stopWriting) {
                    case .nothingWritten: return .nothingWritten
                    case .over: return .over
                    case .stopped:
                        logger.warning(
                            "a batch still writing past its deadline was stopped: nothing of it commits",
                            metadata: ["past_deadline": "\(ContinuousClock.now - end)"])
                        return .over
                    case .committing(let since) where ContinuousClock.now >= since + commitPatience:
                        watch.abandonCommit()
                        return .unknown
                    case .writing, .committing:
                        guard (try? await Task.sleep(for: .milliseconds(50))) != nil else { return nil }
                    }
                }
            }
            for await outcome in group {
                guard let outcome else { continue }
                group.cancelAll()
                return outcome
            }
            return .nothingWritten
        }
    }
}
