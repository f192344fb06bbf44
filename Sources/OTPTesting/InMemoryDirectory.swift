import OTPCore
import Synchronization

/// Apps and API keys in memory, for the HTTP tests.
package final class InMemoryDirectory: AccessDirectory {
    private struct State {
        var apps: [String: App] = [:]
        var keys: [String: StoredAPIKey] = [:]
    }

    private let state = Mutex(State())
    private let secrets: APIKeySecrets

    package init(keys: ServerKeys) { secrets = APIKeySecrets(keys: keys) }

    package func createApp(name: String, accountID: Int64, policy: AppPolicy = .default) -> App {
        let app = App(id: Identifiers.appID(), accountID: accountID, name: name, policy: policy)
        state.withLock { $0.apps[app.id] = app }
        return app
    }

    /// A key for `appIDs` (nil: every app of the account), and its secret.
    package func createKey(accountID: Int64, appIDs: [String]?) throws -> (keyID: String, secret: String) {
        let keyID = Identifiers.keyID()
        let secret = APIKeySecrets.newSecret()
        let key = StoredAPIKey(
            keyID: keyID, accountID: accountID, secretDigest: APIKeySecrets.digest(of: secret),
            sealedSecret: try secrets.seal(secret, keyID: keyID), appIDs: appIDs, revoked: false)
        state.withLock { $0.keys[keyID] = key }
        return (keyID, secret)
    }

    package func revokeKey(id: String) { state.withLock { $0.keys[id]?.revoked = true } }

    package func apps(accountID: Int64) -> [App] {
        state.withLock { $0.apps.values.filter { $0.accountID == accountID }.sorted { $0.id < $1.id } }
    }

    package func replace(_ app: App) { state.withLock { $0.apps[app.id] = app } }

    package func keys(accountID: Int64) -> [StoredAPIKey] {
        state.withLock { $0.keys.values.filter { $0.accountID == accountID }.sorted { $0.keyID < $1.keyID } }
    }

    package func apiKey(id: String) async throws -> StoredAPIKey? { state.withLock { $0.keys[id] } }

    package func app(id: String, accountID: Int64) async throws -> App? {
        state.withLock { $0.apps[id] }.flatMap { $0.accountID == accountID ? $0 : nil }
    }

    package func appIDs(accountID: Int64) async throws -> [String] {
        state.withLock { $0.apps.values.filter { $0.accountID == accountID }.map(\.id).sorted() }
    }
}
