import Foundation
import Logging
import OTPCore
import PostgresNIO

/// An account's apps and keys as the dashboard changes them: each change and its audit event in
/// one transaction, scoped to the account.
package struct PostgresAccountAdministration: AccountAdministration {
    let client: PostgresClient
    let logger: Logger
    let secrets: APIKeySecrets

    package init(client: PostgresClient, logger: Logger, secrets: APIKeySecrets) {
        self.client = client
        self.logger = logger
        self.secrets = secrets
    }

    private var directory: PostgresDirectory { PostgresDirectory(client: client, logger: logger) }

    package func apps(accountID: Int64) async throws -> [App] {
        return try await DatabaseFaults.mapping { try await directory.apps(id: nil, accountID: accountID) }
    }

    package func createApp(name: String, accountID: Int64, policy: AppPolicy, by caller: Caller) async throws -> App {
        return try await DatabaseFaults.mapping {
            if let problem = policy.problem { throw PolicyProblem(problem) }
            let app = App(id: Identifiers.appID(), accountID: accountID, name: name, policy: policy)
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(DirectoryWrites.insertApp(app), logger: logger)
                try await connection.query(
                    EventStatements.insert(
                        .appCreated, appID: app.id, verificationID: nil, actor: caller, details: ["name": name]),
                    logger: logger)
            }
            return app
        }
    }

    package func updateApp(
        id: String, accountID: Int64, by caller: Caller, _ change: @escaping @Sendable (inout App) throws -> Void
    ) async throws -> App? {
        return try await DatabaseFaults.mapping {
            try await client.withTransaction(logger: logger) { connection -> App? in
                // Read and locked on the transaction's own connection, so that two saves of one app
                // apply one after the other.
                let rows = try await connection.query(
                    PostgresDirectory.appsQuery(id: id, accountID: accountID, locking: true), logger: logger)
                guard var app = try await PostgresDirectory.apps(rows).first else { return nil }
                let before = app
                try change(&app)
                if let problem = app.policy.problem { throw PolicyProblem(problem) }
                try await connection.query(DirectoryWrites.updateApp(app), logger: logger)
                try await connection.query(
                    EventStatements.insert(
                        .appUpdated, appID: app.id, verificationID: nil, actor: caller,
                        details: ["changed": Self.changedParts(before, app).joined(separator: ",")]),
                    logger: logger)
                return app
            }
        }
    }

    package func keys(accountID: Int64) async throws -> [APIKeySummary] {
        try await directory.listKeys(accountID: accountID)
    }

    package func createKey(accountID: Int64, appIDs: [String], by caller: Caller) async throws
        -> (keyID: String, secret: String)
    {
        return try await DatabaseFaults.mapping {
            let owned = Set(try await directory.apps(id: nil, accountID: accountID).map(\.id))
            guard !appIDs.isEmpty, appIDs.allSatisfy(owned.contains) else {
                throw PostgresDirectory.AdminError.appNotFound(appIDs.first { !owned.contains($0) } ?? "")
            }
            let (keyID, secret, insert) = try DirectoryWrites.insertKey(
                accountID: accountID, appIDs: appIDs, secrets: secrets)
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(insert, logger: logger)
                // One event per app, so each app's trail shows the keys that may use it.
                for appID in Set(appIDs).sorted() {
                    try await connection.query(
                        EventStatements.insert(
                            .keyCreated, appID: appID, verificationID: nil, actor: caller, details: ["key_id": keyID]),
                        logger: logger)
                }
            }
            return (keyID, secret)
        }
    }

    package func revokeKey(id: String, accountID: Int64, by caller: Caller) async throws -> Bool {
        return try await DatabaseFaults.mapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE otp.api_keys SET revoked_at = coalesce(revoked_at, now())
                    WHERE key_id = \(id) AND account_id = \(accountID)
                    RETURNING coalesce(app_ids, ARRAY(SELECT a.id FROM otp.apps a WHERE a.account_id = \(accountID)))
                    """, logger: logger)
                var apps: [String]?
                for try await ids in rows.decode([String].self) { apps = ids }
                guard let apps else { return false }
                for appID in apps.sorted() {
                    try await connection.query(
                        EventStatements.insert(
                            .keyRevoked, appID: appID, verificationID: nil, actor: caller, details: ["key_id": id]),
                        logger: logger)
                }
                return true
            }
        }
    }

    package func queueDepth(appIDs: [String]) async throws -> Int {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT count(*)::bigint FROM otp.deliveries WHERE state IN ('queued', 'sending') AND app_id = ANY(\(appIDs))
                """, logger: logger)
            var depth = 0
            for try await count in rows.decode(Int.self) { depth = count }
            return depth
        }
    }

    package func record(_ kind: EventKind, appID: String, by caller: Caller, details: [String: String]) async throws {
        try await DatabaseFaults.mapping {
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    EventStatements.insert(kind, appID: appID, verificationID: nil, actor: caller, details: details),
                    logger: logger)
            }
        }
    }

    /// Which parts of an app a save changed, for the audit event (values stay out of it).
    static func changedParts(_ before: App, _ after: App) -> [String] {
        let (old, new) = (before.policy, after.policy)
        let parts: [(String, Bool)] = [
            ("name", before.name != after.name),
            ("code_length", old.codeLength != new.codeLength), ("ttl", old.ttlSeconds != new.ttlSeconds),
            ("max_attempts", old.maxAttempts != new.maxAttempts), ("max_sends", old.maxSends != new.maxSends),
            ("resend_cooldown", old.resendCooldownSeconds != new.resendCooldownSeconds),
            ("channels", old.channels != new.channels || old.defaultChannel != new.defaultChannel),
            ("fallback_channels", old.fallbackChannels != new.fallbackChannels),
            ("from", old.senderName != new.senderName), ("resend_policy", old.resendPolicy != new.resendPolicy),
            ("rate_limits", old.rateLimits != new.rateLimits), ("countries", old.countries != new.countries),
            ("line_types", old.refusedLineTypes != new.refusedLineTypes), ("messages", old.messages != new.messages),
            ("test_numbers", old.testNumbers != new.testNumbers || old.testOutcomes != new.testOutcomes),
            ("webhook_url", old.webhook?.url != new.webhook?.url),
            (
                "webhook_secret",
                old.webhook != nil && new.webhook != nil && old.webhook?.sealedSecret != new.webhook?.sealedSecret
            ),
        ]
        return parts.filter(\.1).map(\.0)
    }
}
