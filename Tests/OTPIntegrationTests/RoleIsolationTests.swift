import Foundation
import OTPCore
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// What a role other than the owner can do in schema otp: a producer only requests, and only for
/// the accounts it was granted; PUBLIC runs nothing; every SECURITY DEFINER function searches
/// pg_temp last.
@Suite struct RoleIsolationTests {
    func cli(_ world: TestApp, _ arguments: [String]) async throws -> (status: Int32?, log: String) {
        let process = try SpawnedProcess.start(
            arguments,
            environment: [
                "DATABASE_URL": world.databaseURL, "OTP_MIGRATE_DATABASE_URL": world.ownerURL,
                "OTP_SECRET_KEY": world.secretKey,
            ])
        let status = await process.waitForExit(seconds: 60)
        return (status, process.log)
    }

    /// The SQLSTATE `query` fails with as `client`, nil when it succeeds.
    func state(_ client: PostgresClient, _ query: PostgresQuery) async -> String? {
        await RequestedSendTests.sqlState { _ = try await client.query(query, logger: quietLogger).collect() }
    }

    @Test func aProducerRequestsOnlyForItsAccountsAndRunsNoMaintenance() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let account: String = try await world.scalar(
                "SELECT a.name FROM otp.accounts a JOIN otp.apps p ON p.account_id = a.id WHERE p.id = \(world.app.id)")
            let theirs = try await world.directory.createApp(
                name: "Theirs", account: "theirs-" + Identifiers.random(count: 8), policy: .default)
            let role = "producer_" + Identifiers.random(count: 8)
            try await world.client.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN"), logger: quietLogger)

            let granted = try await cli(world, ["producers", "grant", role, "--account", account])
            #expect(granted.status == 0, "\(granted.log)")
            let listed = try await cli(world, ["producers", "list", "--json"])
            #expect(listed.log.contains(role) && listed.log.contains(account), "\(listed.log)")
            let unknown = try await cli(world, ["producers", "grant", role, "--account", "no-such-account"])
            #expect(unknown.status == 1 && unknown.log.contains("there is no account"), "\(unknown.log)")

            let producerURL = world.databaseURL.replacingOccurrences(
                of: #"//[^@/]+@"#, with: "//\(role)@", options: .regularExpression)
            try await withClient(url: producerURL) { producer in
                let mine = await state(producer, "SELECT otp.request_verification(\(world.app.id), '+5511999772001')")
                #expect(mine == nil)
                let other = await state(producer, "SELECT otp.request_verification(\(theirs.id), '+5511999772002')")
                #expect(other == "OT403")
                let requested: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(theirs.id)")
                #expect(requested == 0, "nothing requested on the other account's app")
                for maintenance in [
                    "SELECT otp.drop_history_partition(1)", "SELECT otp.make_history_partitions(200)",
                    "SELECT otp.seal_events(1, 1)", "SELECT otp.prune_history_defaults(1, 1)",
                    "SELECT otp.grant_runtime_role()",
                ] {
                    #expect(await state(producer, PostgresQuery(unsafeSQL: maintenance)) == "42501", "\(maintenance)")
                }
            }

            let revoked = try await cli(world, ["producers", "revoke", role, "--account", account])
            #expect(revoked.status == 0, "\(revoked.log)")
            try await withClient(url: producerURL) { producer in
                let after = await state(producer, "SELECT otp.request_verification(\(world.app.id), '+5511999772003')")
                #expect(after == "42501", "no longer a producer at all")
            }
        }
    }

    func names(_ world: TestApp, _ query: PostgresQuery) async throws -> [String] {
        var names: [String] = []
        for try await name in try await world.client.query(query, logger: quietLogger).decode(String.self) {
            names.append(name)
        }
        return names
    }

    @Test func publicRunsNothingAndDefinersSearchPgTempLast() async throws {
        try await TestApp.with { world in
            let executable = try await names(
                world,
                """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = 'otp'::regnamespace
                    AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))
                """)
            #expect(executable == [], "executable by PUBLIC")
            let definers = try await names(
                world,
                """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = 'otp'::regnamespace AND p.prosecdef
                    AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%, pg_temp')
                """)
            #expect(definers == [], "SECURITY DEFINER without pg_temp last")
            let count: Int = try await world.scalar(
                "SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'otp'::regnamespace AND prosecdef")
            #expect(count >= 6)
        }
    }
}
