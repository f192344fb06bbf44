import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Accounts, apps and API keys: what requests are checked against, and what the admin CLI edits.
package struct PostgresDirectory: AccessDirectory {
    package enum AdminError: Error, CustomStringConvertible, Equatable {
        case appNotFound(String)
        case keyNotFound(String)
        case appsOfSeveralAccounts
        case invalidPolicy(String)

        package var description: String {
            switch self {
            case .appNotFound(let id): "no app \(id)"
            case .keyNotFound(let id): "no API key \(id)"
            case .appsOfSeveralAccounts: "a key's apps must all belong to one account"
            case .invalidPolicy(let problem): "invalid policy: \(problem)"
            }
        }
    }

    package typealias KeySummary = APIKeySummary

    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func apiKey(id: String) async throws -> StoredAPIKey? {
        return try await DatabaseFaults.mapping {
            for try await key in try await client.execute(APIKeyStatement(keyID: id), logger: logger) { return key }
            return nil
        }
    }

    package func app(id: String, accountID: Int64) async throws -> App? {
        return try await DatabaseFaults.mapping {
            for try await app in try await client.execute(AppStatement(appID: id, accountID: accountID), logger: logger)
            {
                return app
            }
            return nil
        }
    }

    package func appIDs(accountID: Int64) async throws -> [String] {
        return try await DatabaseFaults.mapping {
            try await apps(id: nil, accountID: accountID).map(\.id)
        }
    }

    package func app(id: String) async throws -> App? {
        return try await DatabaseFaults.mapping {
            try await apps(id: id, accountID: nil).first
        }
    }

    package func listApps() async throws -> [(app: App, account: String)] {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                "SELECT a.id, c.name FROM otp.apps a JOIN otp.accounts c ON c.id = a.account_id ORDER BY a.created_at",
                logger: logger)
            var accounts: [String: String] = [:]
            for try await (id, account) in rows.decode((String, String).self) { accounts[id] = account }
            return try await apps(id: nil, accountID: nil).map { ($0, accounts[$0.id] ?? "") }
        }
    }

    /// Creates the account when it does not exist yet, then the app.
    package func createApp(name: String, account: String, policy: AppPolicy) async throws -> App {
        return try await DatabaseFaults.mapping {
            if let problem = policy.problem { throw AdminError.invalidPolicy(problem) }
            let id = Identifiers.appID()
            let rows = try await client.query(
                """
                WITH found AS (SELECT id FROM otp.accounts WHERE name = \(account)),
                made AS (
                    INSERT INTO otp.accounts (name) SELECT \(account) WHERE NOT EXISTS (SELECT 1 FROM found)
                    ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
                )
                SELECT id FROM found UNION ALL SELECT id FROM made
                """, logger: logger)
            var accountID: Int64?
            for try await id in rows.decode(Int64.self) { accountID = id }
            guard let accountID else { throw PostgresStoreError.noRowReturned }
            let app = App(id: id, accountID: accountID, name: name, policy: policy)
            try await client.query(DirectoryWrites.insertApp(app), logger: logger)
            return app
        }
    }

    /// Changes an app's policy as the CLI does: read and locked in one transaction (two changes of
    /// one app apply one after the other), written with an `app_updated` event by actor `cli`.
    package func updatePolicy(appID: String, _ change: (inout AppPolicy) throws -> Void) async throws -> App {
        return try await DatabaseFaults.mappingInPlace {
            try await withoutActuallyEscaping(change) { change in
                try await client.withTransaction(logger: logger) { connection in
                    let rows = try await connection.query(
                        Self.appsQuery(id: appID, accountID: nil, locking: true), logger: logger)
                    guard var app = try await Self.apps(rows).first else { throw AdminError.appNotFound(appID) }
                    let before = app
                    try change(&app.policy)
                    if let problem = app.policy.problem { throw AdminError.invalidPolicy(problem) }
                    try await connection.query(DirectoryWrites.updateApp(app), logger: logger)
                    try await connection.query(
                        EventStatements.insert(
                            .appUpdated, appID: app.id, verificationID: nil, actor: Caller(keyID: "cli", ip: nil),
                            details: [
                                "changed": PostgresAccountAdministration.changedParts(before, app).joined(
                                    separator: ",")
                            ]),
                        logger: logger)
                    return app
                }
            }
        }
    }

    /// Creates a key that may use exactly `appIDs` (all of one account) and returns its id and its
    /// random secret, which is stored only as a digest and sealed under the key ring.
    package func createKey(appIDs: [String], secrets: APIKeySecrets) async throws -> (keyID: String, secret: String) {
        return try await DatabaseFaults.mapping {
            var accountIDs: Set<Int64> = []
            for appID in appIDs {
                guard let app = try await app(id: appID) else { throw AdminError.appNotFound(appID) }
                accountIDs.insert(app.accountID)
            }
            guard accountIDs.count == 1, let accountID = accountIDs.first else {
                throw AdminError.appsOfSeveralAccounts
            }
            let (keyID, secret, insert) = try DirectoryWrites.insertKey(
                accountID: accountID, appIDs: appIDs, secrets: secrets)
            try await client.query(insert, logger: logger)
            return (keyID, secret)
        }
    }

    /// Seals every key's secret under the ring's current key (after a new server key was put
    /// first). Keys made before secrets were sealed get their seal now. Returns how many were
    /// resealed, and the ids of keys no key of the ring can open (they must be replaced).
    package func resealKeys(secrets: APIKeySecrets) async throws -> (resealed: Int, unreadable: [String]) {
        return try await DatabaseFaults.mapping {
            var keys: [StoredAPIKey] = []
            let rows = try await client.query(
                "SELECT key_id, secret_digest, sealed_secret FROM otp.api_keys WHERE revoked_at IS NULL ORDER BY key_id",
                logger: logger)
            for try await (keyID, digest, sealed) in rows.decode((String, Data, Data?).self) {
                keys.append(
                    StoredAPIKey(
                        keyID: keyID, accountID: 0, secretDigest: digest, sealedSecret: sealed, appIDs: nil,
                        revoked: false)
                )
            }
            var resealed = 0
            var unreadable: [String] = []
            for key in keys {
                guard let secret = secrets.signingSecret(of: key) else {
                    unreadable.append(key.keyID)
                    continue
                }
                let sealed = try secrets.seal(secret, keyID: key.keyID)
                try await client.query(
                    "UPDATE otp.api_keys SET sealed_secret = \(sealed) WHERE key_id = \(key.keyID)", logger: logger)
                resealed += 1
            }
            return (resealed, unreadable)
        }
    }

    /// Seals every app's test-number codes under the ring's current key (the same step of a key
    /// rotation as `resealKeys`). Returns how many were resealed, and the numbers (APPID:NUMBER) no
    /// key of the ring opens (they must be set again).
    package func resealTestNumbers(sealer: CodeSealer) async throws -> (resealed: Int, unreadable: [String]) {
        return try await DatabaseFaults.mapping {
            var resealed = 0
            var unreadable: [String] = []
            for var app in try await apps(id: nil, accountID: nil) where !app.policy.testNumbers.isEmpty {
                for number in app.policy.testNumbers.keys.sorted() {
                    guard let code = try? TestNumbers.code(for: number, policy: app.policy, sealer: sealer) else {
                        unreadable.append("\(app.id):\(number)")
                        continue
                    }
                    app.policy.testNumbers[number] = try TestNumbers.seal(code: code, number: number, sealer: sealer)
                    resealed += 1
                }
                try await client.query(
                    "UPDATE otp.apps SET test_numbers = \(PolicyJSON.testNumbers(app.policy))::jsonb WHERE id = \(app.id)",
                    logger: logger)
            }
            return (resealed, unreadable)
        }
    }

    /// Seals every app's webhook secret under the ring's current key, as `resealTestNumbers` does
    /// the test codes. Returns how many were resealed, and the apps whose secret no key opens (their
    /// secret must be rotated).
    package func resealWebhookSecrets(sealer: CodeSealer) async throws -> (resealed: Int, unreadable: [String]) {
        return try await DatabaseFaults.mapping {
            var resealed = 0
            var unreadable: [String] = []
            for app in try await apps(id: nil, accountID: nil) {
                guard let webhook = app.policy.webhook else { continue }
                guard let secret = try? AppWebhook.open(webhook.sealedSecret, appID: app.id, sealer: sealer) else {
                    unreadable.append(app.id)
                    continue
                }
                let sealed = try AppWebhook.seal(secret: secret, appID: app.id, sealer: sealer)
                try await client.query(
                    "UPDATE otp.apps SET webhook_secret = \(sealed) WHERE id = \(app.id)", logger: logger)
                resealed += 1
            }
            return (resealed, unreadable)
        }
    }

    package func revokeKey(id: String) async throws {
        try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                UPDATE otp.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = \(id) RETURNING key_id
                """, logger: logger)
            if try await rows.collect().isEmpty { throw AdminError.keyNotFound(id) }
        }
    }

    /// Every key, or every key of one account.
    package func listKeys(accountID: Int64? = nil) async throws -> [KeySummary] {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT k.key_id, c.name, k.app_ids, k.created_at, k.revoked_at
                FROM otp.api_keys k JOIN otp.accounts c ON c.id = k.account_id
                WHERE \(accountID)::bigint IS NULL OR k.account_id = \(accountID)
                ORDER BY k.created_at, k.key_id
                """, logger: logger)
            var keys: [KeySummary] = []
            for try await (keyID, account, appIDs, createdAt, revokedAt) in rows.decode(
                (String, String, [String]?, Date, Date?).self)
            {
                keys.append(
                    KeySummary(
                        keyID: keyID, account: account, appIDs: appIDs, createdAt: createdAt, revokedAt: revokedAt))
            }
            return keys
        }
    }

    /// Apps filtered by id and account, either of which may be nil for "any".
    func apps(id: String?, accountID: Int64?) async throws -> [App] {
        try await Self.apps(try await client.query(Self.appsQuery(id: id, accountID: accountID), logger: logger))
    }

    /// The query of `apps(id:accountID:)`; `locking` takes their row locks (inside a transaction).
    static func appsQuery(id: String?, accountID: Int64?, locking: Bool = false) -> PostgresQuery {
        """
        SELECT \(unescaped: AppColumns.list) FROM otp.apps a
        WHERE (\(id)::text IS NULL OR a.id = \(id)) AND (\(accountID)::bigint IS NULL OR a.account_id = \(accountID))
        ORDER BY a.created_at \(unescaped: locking ? "FOR UPDATE" : "")
        """
    }

    static func apps(_ rows: PostgresRowSequence) async throws -> [App] {
        var apps: [App] = []
        for try await row in rows { apps.append(try AppColumns.app(row.makeRandomAccess(), from: 0)) }
        return apps
    }
}
