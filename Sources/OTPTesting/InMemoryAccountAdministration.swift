import Foundation
import OTPCore

/// The account administration over the in-memory directory; its audit events go to the
/// verification store's log, where `/otp/logs` reads them.
package struct InMemoryAccountAdministration: AccountAdministration {
    let directory: InMemoryDirectory
    let log: InMemoryVerificationStore

    package init(directory: InMemoryDirectory, log: InMemoryVerificationStore) {
        self.directory = directory
        self.log = log
    }

    package func apps(accountID: Int64) async throws -> [App] { directory.apps(accountID: accountID) }

    package func createApp(name: String, accountID: Int64, policy: AppPolicy, by caller: Caller) async throws -> App {
        if let problem = policy.problem { throw PolicyProblem(problem) }
        let app = directory.createApp(name: name, accountID: accountID, policy: policy)
        log.record(.appCreated, appID: app.id, actor: caller, details: ["name": name])
        return app
    }

    package func updateApp(
        id: String, accountID: Int64, by caller: Caller, _ change: @escaping @Sendable (inout App) throws -> Void
    ) async throws -> App? {
        guard var app = try await directory.app(id: id, accountID: accountID) else { return nil }
        try change(&app)
        if let problem = app.policy.problem { throw PolicyProblem(problem) }
        directory.replace(app)
        log.record(.appUpdated, appID: app.id, actor: caller, details: [:])
        return app
    }

    package func keys(accountID: Int64) async throws -> [APIKeySummary] {
        directory.keys(accountID: accountID).map {
            APIKeySummary(
                keyID: $0.keyID, account: "account \(accountID)", appIDs: $0.appIDs, createdAt: Date(),
                revokedAt: $0.revoked ? Date() : nil)
        }
    }

    package func createKey(accountID: Int64, appIDs: [String], by caller: Caller) async throws
        -> (keyID: String, secret: String)
    {
        let owned = Set(directory.apps(accountID: accountID).map(\.id))
        guard !appIDs.isEmpty, appIDs.allSatisfy(owned.contains) else { throw PolicyProblem("not the account's apps") }
        let key = try directory.createKey(accountID: accountID, appIDs: appIDs)
        for appID in appIDs { log.record(.keyCreated, appID: appID, actor: caller, details: ["key_id": key.keyID]) }
        return key
    }

    package func revokeKey(id: String, accountID: Int64, by caller: Caller) async throws -> Bool {
        guard let key = directory.keys(accountID: accountID).first(where: { $0.keyID == id }) else { return false }
        directory.revokeKey(id: id)
        for appID in key.appIDs ?? [] { log.record(.keyRevoked, appID: appID, actor: caller, details: ["key_id": id]) }
        return true
    }

    package func queueDepth(appIDs: [String]) async throws -> Int { 0 }

    package func record(_ kind: EventKind, appID: String, by caller: Caller, details: [String: String]) async throws {
        log.record(kind, appID: appID, actor: caller, details: details)
    }
}
