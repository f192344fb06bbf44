import Synchronization

/// The store did not answer in time: the database is away or overloaded. Answered as 503.
package struct StoreUnavailable: Error, Equatable, CustomStringConvertible {
    /// In one line, for the log: "connection refused", "no answer in time".
    package var reason: String

    package init(reason: String = "no answer in time") { self.reason = reason }

    package var description: String { reason }
}

/// A time limit on a call to the store: past it the call is cancelled and `StoreUnavailable` thrown.
///
/// A pool waiting for a database that is down would otherwise hold the request for as long as the
/// client cares to wait.
package struct Deadline: Sendable {
    package var limit: Duration
    /// Waits for a duration, and ends at once when its task is cancelled. `Task.sleep` does, but on
    /// Linux a cancelled one keeps its memory until its time has passed; a busy server, whose every
    /// call is cancelled after a few milliseconds, passes a timer it can take back.
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        _ limit: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.limit = limit
        self.sleep = sleep
    }

    /// Runs `body` and answers with it, or with `StoreUnavailable` once `limit` has passed,
    /// whichever comes first. The deadline holds even when `body` ignores its cancellation (a pool
    /// lease or a query on a connection that died mid-answer): it is cancelled and left behind,
    /// never waited for.
    package func run<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        // Within a request, the calls share the request's time: a slow first call leaves less to
        // the next one, so the whole request answers within one deadline.
        var limit = limit
        if let end = RequestDeadline.end {
            limit = min(limit, ContinuousClock.now.duration(to: end))
            guard limit > .zero else { throw StoreUnavailable() }
        }
        let answer = FirstAnswer<Value>()
        let work = Task {
            do {
                answer.resolve(.success(try await body()))
            } catch {
                answer.resolve(.failure(error))
            }
        }
        let timer = Task { [sleep, limit] in
            guard (try? await sleep(limit)) != nil else { return }
            answer.resolve(.failure(StoreUnavailable()))
            work.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await answer.value()
        } onCancel: {
            work.cancel()
            answer.resolve(.failure(CancellationError()))
        }
    }
}

/// When the request being served must have its answer, set for the whole of its handling: every
/// `Deadline` inside it ends by then at the latest.
package enum RequestDeadline {
    @TaskLocal package static var end: ContinuousClock.Instant?
}

/// The first of several results to arrive; later ones are dropped.
final class FirstAnswer<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex<State>(.waiting(nil))

    func resolve(_ result: Result<Value, any Error>) {
        let waiter: CheckedContinuation<Value, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { state in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// A verification store whose every call gives up at its deadline.
package struct TimeBoundVerificationStore: VerificationStore {
    let base: any VerificationStore
    let deadline: Deadline

    package init(_ base: any VerificationStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], actor: Caller
    ) async throws -> SendOutcome {
        try await deadline.run {
            try await base.send(verification, idempotency: idempotency, charges: charges, actor: actor)
        }
    }

    package func verify(
        verificationID: String, appID: String, actor: Caller, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? {
        try await deadline.run {
            try await base.verify(
                verificationID: verificationID, appID: appID, actor: actor, gate: gate, onFailure: onFailure,
                decide: decide)
        }
    }

    package func resend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult {
        try await deadline.run {
            try await base.resend(verificationID: verificationID, appID: appID, actor: actor, plan: plan)
        }
    }

    package func report(verificationID: String, appID: String) async throws -> VerificationReport? {
        try await deadline.run { try await base.report(verificationID: verificationID, appID: appID) }
    }

    package func recordRefusal(_ refusal: Refusal, appID: String, verificationID: String?, actor: Caller) async {
        _ = try? await deadline.run {
            await base.recordRefusal(refusal, appID: appID, verificationID: verificationID, actor: actor)
        }
    }

    package func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] {
        try await deadline.run { try await base.usage(of: charges) }
    }
}

/// An access directory whose every call gives up at its deadline.
package struct TimeBoundAccessDirectory: AccessDirectory {
    let base: any AccessDirectory
    let deadline: Deadline

    package init(_ base: any AccessDirectory, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    package func apiKey(id: String) async throws -> StoredAPIKey? {
        try await deadline.run { try await base.apiKey(id: id) }
    }

    package func app(id: String, accountID: Int64) async throws -> App? {
        try await deadline.run { try await base.app(id: id, accountID: accountID) }
    }

    package func appIDs(accountID: Int64) async throws -> [String] {
        try await deadline.run { try await base.appIDs(accountID: accountID) }
    }
}
