/// The store did not answer in time: the database is away or overloaded. Answered as 503.
public struct StoreUnavailable: Error, Equatable {
    public init() {}
}

/// A time limit on a call to the store: past it the call is cancelled and `StoreUnavailable` thrown.
///
/// A pool waiting for a database that is down would otherwise hold the request for as long as the
/// client cares to wait.
public struct Deadline: Sendable {
    public var limit: Duration
    /// Waits for a duration, and ends at once when its task is cancelled. `Task.sleep` does, but on
    /// Linux a cancelled one keeps its memory until its time has passed; a busy server, whose every
    /// call is cancelled after a few milliseconds, passes a timer it can take back.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        _ limit: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.limit = limit
        self.sleep = sleep
    }

    public func run<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await sleep(limit)
                throw StoreUnavailable()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw StoreUnavailable() }
            return first
        }
    }
}

/// A verification store whose every call gives up at its deadline.
public struct TimeBoundVerificationStore: VerificationStore {
    let base: any VerificationStore
    let deadline: Deadline

    public init(_ base: any VerificationStore, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    public func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], actor: Actor
    ) async throws -> SendOutcome {
        try await deadline.run {
            try await base.send(verification, idempotency: idempotency, charges: charges, actor: actor)
        }
    }

    public func verify(
        verificationID: String, appID: String, actor: Actor, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? {
        try await deadline.run {
            try await base.verify(
                verificationID: verificationID, appID: appID, actor: actor, gate: gate, onFailure: onFailure,
                decide: decide)
        }
    }

    public func resend(
        verificationID: String, appID: String, actor: Actor,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendReceipt {
        try await deadline.run {
            try await base.resend(verificationID: verificationID, appID: appID, actor: actor, plan: plan)
        }
    }

    public func report(verificationID: String, appID: String) async throws -> VerificationReport? {
        try await deadline.run { try await base.report(verificationID: verificationID, appID: appID) }
    }

    public func recordRefusal(appID: String, verificationID: String?, reason: String, actor: Actor) async {
        _ = try? await deadline.run {
            await base.recordRefusal(appID: appID, verificationID: verificationID, reason: reason, actor: actor)
        }
    }

    public func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] {
        try await deadline.run { try await base.usage(of: charges) }
    }
}

/// An access directory whose every call gives up at its deadline.
public struct TimeBoundAccessDirectory: AccessDirectory {
    let base: any AccessDirectory
    let deadline: Deadline

    public init(_ base: any AccessDirectory, deadline: Deadline) {
        self.base = base
        self.deadline = deadline
    }

    public func apiKey(id: String) async throws -> StoredAPIKey? {
        try await deadline.run { try await base.apiKey(id: id) }
    }

    public func app(id: String, accountID: Int64) async throws -> App? {
        try await deadline.run { try await base.app(id: id, accountID: accountID) }
    }

    public func appIDs(accountID: Int64) async throws -> [String] {
        try await deadline.run { try await base.appIDs(accountID: accountID) }
    }
}
