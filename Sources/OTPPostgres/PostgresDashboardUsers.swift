import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The dashboard's users and sessions in PostgreSQL, so that any `otp serve` accepts any session.
/// Login tries are counted by the same fixed-window counters as the apps' limits.
package struct PostgresDashboardUsers: DashboardUserStore {
    package enum AdminError: Error, CustomStringConvertible, Equatable {
        case emailTaken(String)
        case userNotFound(String)

        package var description: String {
            switch self {
            case .emailTaken(let email): "a user \(email) exists already"
            case .userNotFound(let email): "no user \(email)"
            }
        }
    }

    package struct UserSummary: Sendable, Codable, Equatable {
        package var email: String
        package var account: String
        package var role: UserRole
        package var createdAt: Date
        package var disabledAt: Date?
    }

    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    private static let userColumns = "u.id, u.account_id, c.name AS account, u.email, u.role"

    package func credentials(email: String) async throws -> UserCredentials? {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.userColumns), u.password_hash, u.disabled_at IS NOT NULL AS disabled
                FROM otp.users u JOIN otp.accounts c ON c.id = u.account_id
                WHERE u.email = \(LoginRules.normalised(email: email))
                """, logger: logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                return UserCredentials(
                    user: try Self.user(columns), passwordHash: try columns.value("password_hash"),
                    disabled: try columns.value("disabled"))
            }
            return nil
        }
    }

    package func chargeLoginTry(email: String, ip: String?) async throws {
        try await DatabaseFaults.mapping {
            try await client.withConnection { connection in
                try await PostgresRateLimiter.charge(
                    Self.loginCounters(email: email, ip: ip), on: connection, logger: logger)
            }
        }
    }

    package func refundLoginTry(email: String, ip: String?) async throws {
        try await DatabaseFaults.mapping {
            let counters = Self.loginCounters(email: email, ip: ip)
            try await client.query(
                """
                UPDATE otp.rate_limit_counters SET count = count - 1
                WHERE (rule, scope_key) IN (SELECT * FROM unnest(\(counters.map(\.rule)), \(counters.map(\.scopeKey))))
                    AND window_start = to_timestamp(
                        (floor(extract(epoch FROM now()) / \(LoginRules.failureWindowSeconds)) * \(LoginRules.failureWindowSeconds))::float8)
                    AND count > 0
                """, logger: logger)
        }
    }

    static func loginCounters(email: String, ip: String?) -> [ChargeStatement.Counter] {
        var counters = [
            ChargeStatement.Counter(
                rule: "login_email_15m", scopeKey: LoginRules.normalised(email: email), limit: LoginRules.maxFailures,
                windowSeconds: LoginRules.failureWindowSeconds)
        ]
        if let ip {
            counters.append(
                ChargeStatement.Counter(
                    rule: "login_ip_15m", scopeKey: IPAddress.limitKey(ip), limit: LoginRules.maxFailures,
                    windowSeconds: LoginRules.failureWindowSeconds))
        }
        return counters
    }

    package func startSession(_ token: SessionToken, userID: Int64) async throws {
        try await DatabaseFaults.mapping {
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    "INSERT INTO otp.dashboard_sessions (token_digest, user_id) VALUES (\(token.digest), \(userID))",
                    logger: logger)
            }
        }
    }

    package func session(_ token: SessionToken) async throws -> DashboardUser? {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                WITH used AS (
                    UPDATE otp.dashboard_sessions SET last_used_at = now()
                    WHERE token_digest = \(token.digest)
                        AND last_used_at > now() - make_interval(secs => \(Double(LoginRules.idleTimeoutSeconds)))
                    RETURNING user_id
                )
                SELECT \(unescaped: Self.userColumns)
                FROM used JOIN otp.users u ON u.id = used.user_id JOIN otp.accounts c ON c.id = u.account_id
                WHERE u.disabled_at IS NULL
                """, logger: logger)
            for try await row in rows { return try Self.user(row.makeRandomAccess()) }
            return nil
        }
    }

    package func endSession(_ token: SessionToken) async throws {
        try await DatabaseFaults.mapping {
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    "DELETE FROM otp.dashboard_sessions WHERE token_digest = \(token.digest)", logger: logger)
            }
        }
    }

    // MARK: - Administration (`otp users`)

    /// Creates the user (and its account when new) with the password's bcrypt hash.
    package func createUser(email: String, account: String, role: UserRole, passwordHash: String) async throws {
        try await DatabaseFaults.mapping {
            let email = LoginRules.normalised(email: email)
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    WITH made AS (
                        INSERT INTO otp.accounts (name) VALUES (\(account)) ON CONFLICT (name) DO NOTHING RETURNING id
                    ), account AS (
                        SELECT id FROM made UNION ALL SELECT id FROM otp.accounts WHERE name = \(account)
                    )
                    INSERT INTO otp.users (account_id, email, password_hash, role)
                    SELECT id, \(email), \(passwordHash), \(role.rawValue) FROM account LIMIT 1
                    ON CONFLICT (email) DO NOTHING
                    RETURNING id
                    """, logger: logger)
                if try await rows.collect().isEmpty { throw AdminError.emailTaken(email) }
            }
        }
    }

    package func listUsers() async throws -> [UserSummary] {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT u.email, c.name AS account, u.role, u.created_at, u.disabled_at
                FROM otp.users u JOIN otp.accounts c ON c.id = u.account_id ORDER BY u.created_at, u.id
                """, logger: logger)
            var users: [UserSummary] = []
            for try await row in rows {
                let columns = row.makeRandomAccess()
                users.append(
                    UserSummary(
                        email: try columns.value("email"), account: try columns.value("account"),
                        role: try .stored(try columns.value("role")), createdAt: try columns.value("created_at"),
                        disabledAt: try columns.value("disabled_at")))
            }
            return users
        }
    }

    /// Gives the user a new password and ends every session of theirs.
    package func setPassword(email: String, passwordHash: String) async throws {
        try await DatabaseFaults.mapping {
            let email = LoginRules.normalised(email: email)
            try await changeEndingSessions(
                "UPDATE otp.users SET password_hash = \(passwordHash) WHERE email = \(email) RETURNING id", email: email
            )
        }
    }

    /// Disables the user and ends every session of theirs at once.
    package func disableUser(email: String) async throws {
        try await DatabaseFaults.mapping {
            let email = LoginRules.normalised(email: email)
            try await changeEndingSessions(
                "UPDATE otp.users SET disabled_at = coalesce(disabled_at, now()) WHERE email = \(email) RETURNING id",
                email: email)
        }
    }

    /// Runs `update` (which returns the user's id) and ends that user's sessions, in one transaction.
    private func changeEndingSessions(_ update: PostgresQuery, email: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            var found: Int64?
            for try await id in try await connection.query(update, logger: logger).decode(Int64.self) { found = id }
            guard let found else { throw AdminError.userNotFound(email) }
            _ = try await connection.query(
                "DELETE FROM otp.dashboard_sessions WHERE user_id = \(found)", logger: logger)
        }
    }

    private static func user(_ columns: PostgresRandomAccessRow) throws -> DashboardUser {
        DashboardUser(
            id: try columns.value("id"), accountID: try columns.value("account_id"),
            account: try columns.value("account"), email: try columns.value("email"),
            role: try .stored(try columns.value("role")))
    }
}
