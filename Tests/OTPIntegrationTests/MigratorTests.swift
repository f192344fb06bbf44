import Foundation
import Logging
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

@Suite struct MigratorTests {
    /// A new, empty database on the test server; dropped afterwards.
    func withFreshDatabase(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        let name = "migrate_" + String(Int.random(in: 0..<1_000_000_000))
        let url = try await TestDatabase.shared.url()
        try await withTestClient { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quietLogger)
        }
        let fresh = url.replacingOccurrences(of: #"/[^/?]+(\?|$)"#, with: "/\(name)$1", options: .regularExpression)
        do {
            try await withClient(url: fresh, body)
        } catch {
            try? await dropDatabase(name, url: url)
            throw error
        }
        try await dropDatabase(name, url: url)
    }

    let files = (try? MigrationFile.loadDefault()) ?? []

    @Test func appliesOnceThenIsANoOp() async throws {
        #expect(!files.isEmpty)
        let files = files
        try await withFreshDatabase { client in
            let migrator = Migrator(client: client, files: files, logger: quietLogger)
            #expect(try await migrator.pending() == files.map(\.name))
            #expect(try await migrator.migrate() == files.map(\.name))
            #expect(try await migrator.migrate() == [])
            #expect(try await migrator.pending() == [])
            var tables: [String] = []
            for try await name in try await client.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'otp' ORDER BY 1",
                logger: quietLogger
            ).decode(String.self) { tables.append(name) }
            #expect(
                Set(tables).isSuperset(of: [
                    "accounts", "apps", "api_keys", "verifications", "deliveries", "delivery_attempts",
                    "verify_attempts", "events", "idempotency_keys", "rate_limit_counters", "daily_reports",
                    "schema_migrations",
                ]))
        }
    }

    @Test func concurrentMigratorsTakeTurns() async throws {
        let files = files
        try await withFreshDatabase { client in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 {
                    group.addTask { try await Migrator(client: client, files: files, logger: quietLogger).migrate() }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(applied.filter { !$0.isEmpty }.count == 1)
        }
    }

    @Test func aChangedAppliedFileIsRefused() async throws {
        let files = files
        try await withFreshDatabase { client in
            try await Migrator(client: client, files: files, logger: quietLogger).migrate()
            var edited = files
            edited[0].contents += "\n-- an innocent comment\n"
            let migrator = Migrator(client: client, files: edited, logger: quietLogger)
            await #expect(throws: Migrator.MigrationError.self) { try await migrator.migrate() }
            await #expect(throws: Migrator.MigrationError.self) { try await migrator.pending() }
        }
    }

    @Test func statementsSplitOutsideDollarQuotes() {
        let file = MigrationFile(
            version: 9, name: "0009_x.sql",
            contents: """
                -- comment
                CREATE TABLE a (x int);

                CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'no; never';
                END;
                $$;
                INSERT INTO a VALUES (1);
                """)
        #expect(file.statements.count == 3)
        #expect(file.statements[1].hasPrefix("CREATE FUNCTION") && file.statements[1].hasSuffix("$$;"))
    }
}
