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
    let functions = (try? MigrationFile.loadDefaultFunctions()) ?? []

    @Test func appliesOnceThenIsANoOp() async throws {
        #expect(!files.isEmpty && !functions.isEmpty)
        let (files, functions) = (files, functions)
        try await withFreshDatabase { client in
            let migrator = Migrator(client: client, files: files, functions: functions, logger: quietLogger)
            #expect(try await migrator.pending() == (files + functions).map(\.name))
            #expect(try await migrator.migrate() == (files + functions).map(\.name))
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

    /// Migration 0016 moves the history tables of a database in use onto weekly partitions: every
    /// row arrives unchanged (ids and chain hashes included), the chain still verifies, and new rows
    /// take ids after the old ones.
    @Test func partitioningTheHistoryLosesNoRow() async throws {
        let before = files.filter { $0.version < 16 }
        let files = files
        try await withFreshDatabase { client in
            try await Migrator(client: client, files: before, logger: quietLogger).migrate()
            try await client.query(
                """
                WITH account AS (INSERT INTO otp.accounts (name) VALUES ('history') RETURNING id)
                INSERT INTO otp.apps (id, account_id, name) SELECT 'app_history', id, 'History' FROM account
                """, logger: quietLogger)
            // 3,000 of each, spread over 200 days, their ids out of time order.
            try await client.query(
                """
                INSERT INTO otp.verifications (id, app_id, recipient, channel, code_length, ttl_seconds, max_attempts,
                    max_sends, created_at, expires_at, resend_available_at)
                SELECT 'otp_' || n, 'app_history', '+5511999888777', 'sms', 6, 300, 5, 5,
                    now() - make_interval(hours => (n * 7919) % 4800), now(), now()
                FROM generate_series(1, 3000) AS n
                """, logger: quietLogger)
            for statement in [
                """
                INSERT INTO otp.events (event, app_id, verification_id, at, details)
                SELECT 'send_requested', app_id, id, created_at, jsonb_build_object('n', id) FROM otp.verifications
                """,
                """
                INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, state, expires_at, created_at)
                SELECT id, app_id, 'sms', recipient, 'sent', expires_at, created_at FROM otp.verifications
                """,
                """
                INSERT INTO otp.delivery_attempts (delivery_id, verification_id, app_id, provider, outcome, latency_ms, at)
                SELECT id, verification_id, app_id, 'twilio', 'accepted', 5, created_at FROM otp.deliveries
                """,
                """
                INSERT INTO otp.verify_attempts (verification_id, app_id, success, reason, at)
                SELECT id, app_id, false, 'invalid_code', created_at FROM otp.verifications
                """,
                """
                WITH event AS (
                    INSERT INTO otp.webhook_events (app_id, verification_id, type, body)
                    VALUES ('app_history', 'otp_1', 'delivery.sent', '{}') RETURNING id)
                INSERT INTO otp.webhook_attempts (webhook_event_id, verification_id, app_id, event, url, latency_ms, at)
                SELECT event.id, 'otp_1', 'app_history', 'delivery.sent', 'https://example.com/hook', 5,
                    now() - make_interval(days => n)
                FROM event, generate_series(1, 100) AS n
                """,
            ] {
                try await client.query(PostgresQuery(unsafeSQL: statement), logger: quietLogger)
            }
            // Sealed by that release's own sealer (rows older than 30 s).
            let sealed: Int = try await value(client, "SELECT otp.seal_events(10000)")
            #expect(sealed == 3000)
            let trail = AuditTrail(client: client, logger: quietLogger)
            let history = ["events", "delivery_attempts", "verify_attempts", "webhook_attempts"]
            // Over the columns the rows had before: later migrations may add columns of their own.
            var columns: [String] = []
            var fingerprints: [String] = []
            for table in history {
                columns.append(
                    try await value(
                        client,
                        """
                        SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
                        FROM information_schema.columns WHERE table_schema = 'otp' AND table_name = \(table)
                        """))
                fingerprints.append(try await fingerprint(client, table, columns: columns.last ?? "*"))
            }

            let applied = try await Migrator(client: client, files: files, logger: quietLogger).migrate()
            #expect(applied.first == "0016_partitioned_history.sql")
            for ((table, before), listed) in zip(zip(history, fingerprints), columns) {
                #expect(
                    try await fingerprint(client, table, columns: listed) == before, "\(table) holds the same rows")
                let kind: String = try await value(
                    client, "SELECT relkind::text FROM pg_class WHERE oid = \("otp." + table)::regclass")
                #expect(kind == "p", "\(table) is partitioned")
                let inDefault: Int = try await value(
                    client, PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM otp_history.\(table)_default"))
                #expect(inDefault == 0, "every old row has its week")
            }
            #expect(try await trail.verify() == AuditTrail.Verdict(checked: 3000))
            let oldLast: Int64 = try await value(client, "SELECT max(id) FROM otp.events")
            let newID: Int64 = try await value(
                client, "INSERT INTO otp.events (event, app_id) VALUES ('after', 'app_history') RETURNING id")
            #expect(newID > oldLast)
        }
    }

    /// Migration 0019 on a database made by the release before it: the chain still verifies,
    /// PUBLIC and the runtime lose what they should not have had, and a stored Idempotency-Key
    /// moves under the app its answer names (a retry after the upgrade still replays).
    @Test func upgradingARunningDatabaseToTheRolesOfWave3() async throws {
        let before = files.filter { $0.version < 19 }
        let (files, functions) = (files, functions)
        try await withFreshDatabase { client in
            try await Migrator(client: client, files: before, logger: quietLogger).migrate()
            for statement in [
                """
                WITH account AS (INSERT INTO otp.accounts (name) VALUES ('upgrade') RETURNING id)
                INSERT INTO otp.apps (id, account_id, name) SELECT 'app_upgrade', id, 'Upgrade' FROM account
                """,
                """
                INSERT INTO otp.verifications (id, app_id, recipient, channel, code_length, ttl_seconds, max_attempts,
                    max_sends, expires_at, resend_available_at)
                VALUES ('otp_upgrade1', 'app_upgrade', '+5511999888777', 'sms', 6, 300, 5, 5, now(), now())
                """,
                """
                INSERT INTO otp.idempotency_keys (account_id, key, request_digest, response_status, response_body)
                SELECT account_id, 'order-1', '\\x01', 202, '{"verification_id": "otp_upgrade1"}' FROM otp.apps
                """,
                """
                INSERT INTO otp.events (event, app_id, at)
                SELECT 'send_requested', 'app_upgrade', now() - make_interval(mins => n) FROM generate_series(1, 50) n
                """,
            ] {
                try await client.query(PostgresQuery(unsafeSQL: statement), logger: quietLogger)
            }
            // Sealed by that release's own sealer (rows older than 30 s).
            let sealed: Int = try await value(client, "SELECT otp.seal_events(5000)")
            #expect(sealed == 50)
            let publicBefore: Bool = try await value(
                client, "SELECT has_function_privilege('public', 'otp.drop_history_partition(integer)', 'EXECUTE')")
            #expect(publicBefore, "the hole this migration closes")

            #expect(
                try await Migrator(client: client, files: files, functions: functions, logger: quietLogger).migrate()
                    .first == "0019_roles_and_chain.sql")
            #expect(
                try await AuditTrail(client: client, logger: quietLogger).verify() == AuditTrail.Verdict(checked: 50))
            for check in [
                "SELECT has_function_privilege('public', 'otp.drop_history_partition(integer)', 'EXECUTE')",
                "SELECT has_function_privilege('public', 'otp.seal_events(integer, bigint)', 'EXECUTE')",
                "SELECT has_column_privilege('otp_runtime', 'otp.events', 'id', 'INSERT')",
                "SELECT has_column_privilege('otp_runtime', 'otp.events', 'at', 'INSERT')",
                "SELECT has_column_privilege('otp_runtime', 'otp.events', 'chain_hash', 'INSERT')",
                "SELECT has_table_privilege('otp_runtime', 'otp.producer_grants', 'INSERT')",
                "SELECT has_function_privilege('otp_producer', 'otp.make_history_partitions(integer, timestamptz)', 'EXECUTE')",
            ] {
                let granted: Bool = try await value(client, PostgresQuery(unsafeSQL: check))
                #expect(!granted, "\(check)")
            }
            for check in [
                "SELECT has_column_privilege('otp_runtime', 'otp.events', 'details', 'INSERT')",
                "SELECT has_function_privilege('otp_runtime', 'otp.seal_events(integer, bigint)', 'EXECUTE')",
                "SELECT has_function_privilege('otp_producer', 'otp.request_verification(text, text, text, text, text, jsonb)', 'EXECUTE')",
            ] {
                let granted: Bool = try await value(client, PostgresQuery(unsafeSQL: check))
                #expect(granted, "\(check)")
            }
            let key: String = try await value(client, "SELECT key FROM otp.idempotency_keys")
            #expect(key == "app_upgrade|order-1")
        }
    }

    /// The table's rows, in id order, as one digest.
    func fingerprint(_ client: PostgresClient, _ table: String, columns: String) async throws -> String {
        try await value(
            client,
            PostgresQuery(
                unsafeSQL: """
                    SELECT count(*) || ':' || md5(string_agg(x::text, ',' ORDER BY id))
                    FROM (SELECT \(columns) FROM otp.\(table)) x
                    """))
    }

    func value<Value: PostgresDecodable & Sendable>(_ client: PostgresClient, _ query: PostgresQuery) async throws
        -> Value
    {
        for try await value in try await client.query(query, logger: quietLogger).decode(Value.self) { return value }
        throw TestFailure("no row")
    }

    /// A function's file is its live definition: an edited one is applied again on the next
    /// migrate, alone, and the schema is left untouched when nothing changed.
    @Test func anEditedFunctionFileIsAppliedAgainAndNothingElse() async throws {
        let (files, functions) = (files, functions)
        try await withFreshDatabase { client in
            try await Migrator(client: client, files: files, functions: functions, logger: quietLogger).migrate()
            var edited = functions
            let index = try #require(edited.firstIndex { $0.name == "functions/effective_status.sql" })
            edited[index].contents = edited[index].contents.replacingOccurrences(
                of: "'expired' ELSE status END", with: "'expired' ELSE status END || ''")
            let migrator = Migrator(client: client, files: files, functions: edited, logger: quietLogger)
            #expect(try await migrator.pending() == ["functions/effective_status.sql"])
            #expect(try await migrator.migrate() == ["functions/effective_status.sql"])
            #expect(try await migrator.migrate() == [])
            let definition: String = try await value(
                client, "SELECT pg_get_functiondef('otp.effective_status(text, timestamptz)'::regprocedure)")
            #expect(definition.contains("|| ''"))
        }
    }

    /// The live SQL is `sql/functions/`: every function and trigger of the schema has its file
    /// there, and every file its function or trigger.
    @Test func everyFunctionAndTriggerOfTheSchemaHasItsOwnFile() async throws {
        let functions = functions
        try await TestApp.with { world in
            var live: [String] = []
            for try await name in try await world.client.query(
                """
                SELECT proname::text FROM pg_proc WHERE pronamespace = 'otp'::regnamespace
                UNION ALL
                SELECT 'trigger_' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = 'otp'::regnamespace AND NOT t.tgisinternal AND t.tgparentid = 0
                """, logger: quietLogger
            ).decode(String.self) { live.append(name) }
            let files = functions.map { String($0.name.dropFirst("functions/".count).dropLast(".sql".count)) }
            #expect(live.sorted() == files.sorted())
        }
    }

    @Test func concurrentMigratorsTakeTurns() async throws {
        let (files, functions) = (files, functions)
        try await withFreshDatabase { client in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await Migrator(client: client, files: files, functions: functions, logger: quietLogger)
                            .migrate()
                    }
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
