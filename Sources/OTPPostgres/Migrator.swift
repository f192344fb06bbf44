import Logging
import PostgresNIO

/// Applies `sql/` files in order, each in its own transaction, under an advisory lock so that two
/// hosts migrating at once take turns. Refuses to go on when an applied file has changed. Then the
/// live definitions of the schema's functions and triggers (`sql/functions/`): each file whose
/// text differs from the one last applied (`otp.schema_functions` keeps their checksums) is
/// applied again in a transaction of its own, so an unchanged schema is left untouched.
package struct Migrator: Sendable {
    package enum MigrationError: Error, CustomStringConvertible {
        case changedAfterApply(name: String)
        case unknownApplied(version: Int)

        package var description: String {
            switch self {
            case .changedAfterApply(let name):
                "migration \(name) was changed after it was applied; add a new file instead"
            case .unknownApplied(let version):
                "the database has migration \(version), which this build does not know; upgrade the binary"
            }
        }
    }

    /// Arbitrary, fixed: the advisory lock that serialises migrators.
    static let lockKey: Int64 = 0x6f74_705f_6d69_67

    package let client: PostgresClient
    package let files: [MigrationFile]
    /// `sql/functions/`: applied after `files`, when changed.
    package let functions: [MigrationFile]
    package let logger: Logger

    package init(client: PostgresClient, files: [MigrationFile], functions: [MigrationFile] = [], logger: Logger) {
        self.client = client
        self.files = files
        self.functions = functions
        self.logger = logger
    }

    /// Applies what is pending; returns the names applied (empty when the database was current).
    @discardableResult
    package func migrate() async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                var applied = try await apply(on: connection)
                applied += try await applyFunctions(on: connection)
                // The runtime role's rights, for every table there now is.
                try await connection.query(
                    """
                    SELECT otp.grant_runtime_role() WHERE to_regprocedure('otp.grant_runtime_role()') IS NOT NULL
                    """, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    /// The names of files not yet applied; throws when an applied file has changed.
    package func pending() async throws -> [String] {
        try await client.withConnection { connection in
            let applied = try await appliedChecksums(on: connection)
            let pending = try check(applied).map(\.name)
            guard !functions.isEmpty else { return pending }
            let functionsApplied = try await appliedFunctionChecksums(on: connection)
            return pending + functions.filter { functionsApplied[$0.name] != $0.checksum }.map(\.name)
        }
    }

    /// The function files whose text is not the one applied, each applied in its own transaction
    /// (bodies are checked when called, not here: a function may name one made after it).
    private func applyFunctions(on connection: PostgresConnection) async throws -> [String] {
        guard !functions.isEmpty else { return [] }
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS otp.schema_functions (
                name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        let applied = try await appliedFunctionChecksums(on: connection)
        let todo = functions.filter { applied[$0.name] != $0.checksum }
        for file in todo {
            logger.info("applying function", metadata: ["migration.name": "\(file.name)"])
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SET LOCAL check_function_bodies = off", logger: logger)
                for statement in file.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO otp.schema_functions (name, checksum) VALUES (\(file.name), \(file.checksum))
                    ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = now()
                    """, logger: logger)
            }
        }
        return todo.map(\.name)
    }

    private func appliedFunctionChecksums(on connection: PostgresConnection) async throws -> [String: String] {
        try await checksums(in: "otp.schema_functions", by: "name", as: String.self, on: connection)
    }

    private func apply(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("CREATE SCHEMA IF NOT EXISTS otp", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS otp.schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        let todo = try check(try await appliedChecksums(on: connection))
        for file in todo {
            logger.info("applying migration", metadata: ["migration.name": "\(file.name)"])
            try await connection.withTransaction(logger: logger) { connection in
                for statement in file.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO otp.schema_migrations (version, name, checksum)
                    VALUES (\(file.version), \(file.name), \(file.checksum))
                    """, logger: logger)
            }
        }
        return todo.map(\.name)
    }

    private func appliedChecksums(on connection: PostgresConnection) async throws -> [Int: String] {
        try await checksums(in: "otp.schema_migrations", by: "version", as: Int.self, on: connection)
    }

    /// The checksums `table` (one of the migrator's own two) records by `key`; none before it exists.
    private func checksums<Key: PostgresDecodable & Hashable>(
        in table: String, by key: String, as: Key.Type, on connection: PostgresConnection
    ) async throws -> [Key: String] {
        let exists = try await connection.query(
            "SELECT to_regclass(\(table)) IS NOT NULL", logger: logger
        ).decode(Bool.self)
        for try await present in exists where !present { return [:] }
        var applied: [Key: String] = [:]
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(key), checksum FROM \(table)"), logger: logger)
        for try await (name, checksum) in rows.decode((Key, String).self) { applied[name] = checksum }
        return applied
    }

    private func check(_ applied: [Int: String]) throws -> [MigrationFile] {
        let known = Set(files.map(\.version))
        if let stranger = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError.unknownApplied(version: stranger)
        }
        for file in files {
            if let checksum = applied[file.version], checksum != file.checksum {
                throw MigrationError.changedAfterApply(name: file.name)
            }
        }
        return files.filter { applied[$0.version] == nil }
    }
}
