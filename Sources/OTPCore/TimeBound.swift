/// The store did not answer in time: the database is away or overloaded. Answered as 503.
public struct StoreUnavailable: Error, Equatable {
    public init() {}
}

/// Runs `body`, cancelling it and throwing `StoreUnavailable` when it takes longer than `limit`.
///
/// A pool waiting for a database that is down would otherwise hold the request for as long as the
/// client cares to wait.
public func withDeadline<Result: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw StoreUnavailable()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw StoreUnavailable() }
        return first
    }
}

/// A verification store whose every call gives up after `limit`.
public struct TimeBoundVerificationStore: VerificationStore {
    let base: any VerificationStore
    let limit: Duration

    public init(_ base: any VerificationStore, limit: Duration) {
        self.base = base
        self.limit = limit
    }

    public func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], actor: Actor
    ) async throws -> SendOutcome {
        try await withDeadline(limit) {
            try await base.send(verification, idempotency: idempotency, charges: charges, actor: actor)
        }
    }

    public func verify(
        verificationID: String, appID: String, actor: Actor, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? {
        try await withDeadline(limit) {
            try await base.verify(
                verificationID: verificationID, appID: appID, actor: actor, gate: gate, onFailure: onFailure,
                decide: decide)
        }
    }

    public func resend(
        verificationID: String, appID: String, actor: Actor,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendReceipt {
        try await withDeadline(limit) {
            try await base.resend(verificationID: verificationID, appID: appID, actor: actor, plan: plan)
        }
    }

    public func report(verificationID: String, appID: String) async throws -> VerificationReport? {
        try await withDeadline(limit) { try await base.report(verificationID: verificationID, appID: appID) }
    }

    public func recordRefusal(appID: String, verificationID: String?, reason: String, actor: Actor) async {
        _ = try? await withDeadline(limit) {
            await base.recordRefusal(appID: appID, verificationID: verificationID, reason: reason, actor: actor)
        }
    }

    public func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] {
        try await withDeadline(limit) { try await base.usage(of: charges) }
    }
}

/// An access directory whose every call gives up after `limit`.
public struct TimeBoundAccessDirectory: AccessDirectory {
    let base: any AccessDirectory
    let limit: Duration

    public init(_ base: any AccessDirectory, limit: Duration) {
        self.base = base
        self.limit = limit
    }

    public func apiKey(id: String) async throws -> StoredAPIKey? {
        try await withDeadline(limit) { try await base.apiKey(id: id) }
    }

    public func app(id: String, accountID: Int64) async throws -> App? {
        try await withDeadline(limit) { try await base.app(id: id, accountID: accountID) }
    }

    public func appIDs(accountID: Int64) async throws -> [String] {
        try await withDeadline(limit) { try await base.appIDs(accountID: accountID) }
    }
}
