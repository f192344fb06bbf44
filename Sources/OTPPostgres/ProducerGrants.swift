import Foundation
import Logging
import PostgresNIO

/// Which database roles may request verifications from SQL (`otp.request_verification`) for which
/// account. Run as the schema's owner: the runtime role may read the grants but not change them.
package struct ProducerGrants: Sendable {
    package struct Grant: Sendable, Codable, Equatable {
        package var role: String
        package var account: String
        package var grantedAt: Date

        enum CodingKeys: String, CodingKey {
            case role, account
            case grantedAt = "granted_at"
        }
    }

    package enum Problem: Error, CustomStringConvertible {
        case noSuchRole(String)
        case noSuchAccount(String)

        package var description: String {
            switch self {
            case .noSuchRole(let role): "there is no database role \(role)"
            case .noSuchAccount(let account): "there is no account \(account)"
            }
        }
    }

    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Lets `role` (and the login roles that are members of it) request for `account`, making it a
    /// member of `otp_producer`. Granting twice changes nothing.
    package func grant(role: String, account: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One change at a time: two concurrent GRANTs of one membership collide in the catalog.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let accountID = try await Self.accountID(account, on: connection, logger: logger)
            guard try await Self.roleExists(role, on: connection, logger: logger) else {
                throw Problem.noSuchRole(role)
            }
            try await connection.query(
                """
                INSERT INTO otp.producer_grants (role_name, account_id) VALUES (\(role), \(accountID))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            let member = try await Self.first(
                """
                SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                    JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'otp_producer' AND u.rolname = \(role))
                """, as: Bool.self, on: connection, logger: logger)
            if member != true {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "GRANT otp_producer TO \(Self.quoted(role))"), logger: logger)
            }
        }
    }

    /// Arbitrary, fixed: the advisory lock that serialises changes to producers' memberships.
    static let lockKey: Int64 = 0x6f74_705f_7072_6f64

    /// Takes back `role`'s grant for `account`; with its last grant gone it leaves `otp_producer`.
    /// Returns whether there was such a grant.
    @discardableResult
    package func revoke(role: String, account: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let accountID = try await Self.accountID(account, on: connection, logger: logger)
            let removed =
                try await Self.first(
                    """
                    DELETE FROM otp.producer_grants WHERE role_name = \(role) AND account_id = \(accountID) RETURNING 1
                    """, as: Int.self, on: connection, logger: logger) != nil
            let remaining = try await Self.first(
                "SELECT count(*)::int FROM otp.producer_grants WHERE role_name = \(role)", as: Int.self,
                on: connection, logger: logger)
            if remaining == 0, try await Self.roleExists(role, on: connection, logger: logger) {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "REVOKE otp_producer FROM \(Self.quoted(role))"), logger: logger)
            }
            return removed
        }
    }

    package func list() async throws -> [Grant] {
        var grants: [Grant] = []
        let rows = try await client.query(
            """
            SELECT g.role_name, a.name, g.granted_at FROM otp.producer_grants g
            JOIN otp.accounts a ON a.id = g.account_id ORDER BY g.role_name, a.name
            """, logger: logger)
        for try await (role, account, at) in rows.decode((String, String, Date).self) {
            grants.append(Grant(role: role, account: account, grantedAt: at))
        }
        return grants
    }

    private static func accountID(_ name: String, on connection: PostgresConnection, logger: Logger) async throws
        -> Int64
    {
        guard
            let id = try await first(
                "SELECT id FROM otp.accounts WHERE name = \(name)", as: Int64.self, on: connection, logger: logger)
        else { throw Problem.noSuchAccount(name) }
        return id
    }

    private static func roleExists(_ role: String, on connection: PostgresConnection, logger: Logger) async throws
        -> Bool
    {
        try await first(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(role))", as: Bool.self, on: connection,
            logger: logger) == true
    }

    /// The first column of the first row `query` returns, nil when it returns none.
    private static func first<Value: PostgresDecodable>(
        _ query: PostgresQuery, as: Value.Type, on connection: PostgresConnection, logger: Logger
    ) async throws -> Value? {
        for try await value in try await connection.query(query, logger: logger).decode(Value.self) { return value }
        return nil
    }

    /// A role name as an SQL identifier (as `quote_ident` writes it, always quoted).
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
