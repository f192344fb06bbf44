import Foundation
import Logging
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// The audit trail cannot be rewritten by the service's own role, and a change made past it (by
/// the owner, or on disk) shows in the hash chain.
@Suite struct AuditTrailTests {
    func refused(_ client: PostgresClient, _ query: PostgresQuery) async -> Bool {
        do {
            try await client.query(query, logger: quietLogger)
            return false
        } catch {
            return true
        }
    }

    @Test func theRuntimeRoleCanOnlyAddToTheTrail() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let runtime = world.runtimeClient
            let current: String = try await world.scalar("SELECT current_user::text")
            let runtimeUser: String = try await {
                for try await name in try await runtime.query("SELECT current_user::text", logger: quietLogger)
                    .decode(String.self)
                { return name }
                throw TestFailure("no user")
            }()
            #expect(current != runtimeUser, "the test's two clients are two roles")
            try await runtime.query(
                "INSERT INTO otp.events (event, app_id) VALUES ('send_requested', \(world.app.id))", logger: quietLogger
            )
            #expect(await refused(runtime, "UPDATE otp.events SET event = 'x'"))
            #expect(await refused(runtime, "DELETE FROM otp.events"))
            #expect(await refused(runtime, "TRUNCATE otp.events"))
            #expect(await refused(runtime, "ALTER TABLE otp.events DISABLE TRIGGER events_append_only"))
            #expect(await refused(runtime, "DROP TRIGGER events_append_only ON otp.events"))
            #expect(await refused(runtime, "UPDATE otp.audit_policy SET retention_days = 1"))
            // The old escape hatch is gone: a setting any session may set opens nothing.
            try await runtime.withTransaction(logger: quietLogger) { connection in
                try await connection.query("SELECT set_config('otp.allow_prune', 'on', true)", logger: quietLogger)
            }
            #expect(await refused(runtime, "DELETE FROM otp.events"))
            // Even the owner meets the trigger.
            #expect(await refused(world.client, "UPDATE otp.events SET event = 'x'"))
            #expect(await refused(world.client, "TRUNCATE otp.events"))
            let count: Int = try await world.scalar("SELECT count(*)::int FROM otp.events")
            #expect(count >= 1)
        }
    }

    @Test func onlyTheDatabaseSetsAnEventsIDTimeAndChainAndVerifyReportsWhatTheChainMissed() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let runtime = world.runtimeClient
            // The forgeries of the review: a huge id (the sealer would pass every genuine event after
            // it), a back-dated row, a row that claims to be sealed.
            #expect(await refused(runtime, "INSERT INTO otp.events (id, event) VALUES (9000000000000, 'key_revoked')"))
            #expect(
                await refused(
                    runtime, "INSERT INTO otp.events (at, event) VALUES (now() - interval '30 days', 'key_revoked')"))
            #expect(await refused(runtime, "INSERT INTO otp.events (event, chain_hash) VALUES ('x', '\\x00')"))
            #expect(await refused(runtime, "INSERT INTO otp.events (event, chain_prev) VALUES ('x', '\\x00')"))
            try await world.client.query(
                "INSERT INTO otp.events (event, at) VALUES ('sealed', now() - interval '1 minute')", logger: quietLogger
            )
            try await runtime.query(
                "INSERT INTO otp.events (event, app_id) VALUES ('send_requested', \(world.app.id))", logger: quietLogger
            )
            let trail = AuditTrail(client: world.client, logger: quietLogger)
            _ = try await trail.seal()
            #expect(try await trail.verify().intact)

            // Slipped in past the runtime (the owner can): an id below the chain's end is never sealed.
            let low: Int64 = try await world.scalar(
                "SELECT min(id) - 1 FROM otp.events WHERE chain_hash IS NOT NULL")
            try await world.client.query(
                "INSERT INTO otp.events (id, event, at) VALUES (\(low), 'key_revoked', now() - interval '2 minutes')",
                logger: quietLogger)
            _ = try await trail.seal()
            var verdict = try await trail.verify()
            #expect(verdict.brokenAt == low && verdict.reason?.contains("out of order") == true, "\(verdict)")
            let command = try SpawnedProcess.start(
                ["audit", "verify"],
                environment: ["DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey])
            #expect(await command.waitForExit(seconds: 60) == 1, "\(command.log)")
            #expect(command.log.contains("broken at event \(low)"), "\(command.log)")
        }
        try await TestApp.with(ownDatabase: true) { world in
            // A row older than the sealer's grace that nothing sealed (the sealer stopped, or skipped it).
            try await world.client.query(
                "INSERT INTO otp.events (event, at) VALUES ('key_revoked', now() - interval '10 minutes')",
                logger: quietLogger)
            let verdict = try await AuditTrail(client: world.client, logger: quietLogger).verify()
            #expect(verdict.reason?.contains("still unsealed") == true, "\(verdict)")
        }
    }

    @Test func pruningDropsOnlyTheWeeksPastTheRetention() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await DatabaseRoles.setRetention(days: 30, client: world.client, logger: quietLogger)
            let maintenance = PostgresMaintenance(client: world.runtimeClient, logger: quietLogger)
            _ = try await maintenance.makePartitions(since: Date().addingTimeInterval(-60 * 86_400))
            // 200 days old: before the first partition, so in the default partition.
            for age in [200, 40, 29, 1] {
                try await world.client.query(
                    """
                    INSERT INTO otp.events (at, event, app_id) VALUES (now() - make_interval(days => \(age)::integer), 'aged', \(world.app.id))
                    """, logger: quietLogger)
            }
            #expect(try await partition(world, ofEventAged: 200) == "otp_history.events_default")
            let weekOf40 = try await partition(world, ofEventAged: 40)
            // The runtime's prune, asking for a retention of 1 day, still keeps the trail's 30.
            let report = try await maintenance.prune(olderThanDays: 1)
            #expect(report.events == 2)
            #expect(report.droppedPartitions.contains(String(weekOf40.dropFirst("otp_history.".count))))
            let left: [Int] = try await ages(world)
            #expect(left == [29, 1])
            // The runtime reaches the partitions only through the trail's table and its functions.
            #expect(await refused(world.runtimeClient, "SELECT count(*) FROM otp_history.events_default"))
            #expect(await refused(world.runtimeClient, "DROP TABLE otp_history.events_default"))
        }
    }

    func partition(_ world: TestApp, ofEventAged days: Int) async throws -> String {
        try await world.scalar(
            """
            SELECT tableoid::regclass::text FROM otp.events
            WHERE event = 'aged' AND extract(day FROM now() - at)::int = \(days)
            """)
    }

    @Test func aDroppedWeekLeavesTheChainWhole() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await DatabaseRoles.setRetention(days: 30, client: world.client, logger: quietLogger)
            let maintenance = PostgresMaintenance(client: world.runtimeClient, logger: quietLogger)
            _ = try await maintenance.makePartitions(since: Date().addingTimeInterval(-60 * 86_400))
            // In id order the weeks interleave, as at a week's end when a transaction begun in the
            // old week writes its event after one begun in the new week.
            // Back-dated rows: only the owner may set `at`.
            for age in [40, 20, 40, 20, 40, 20] {
                try await world.client.query(
                    """
                    INSERT INTO otp.events (at, event, app_id)
                    VALUES (now() - make_interval(days => \(age)::integer), 'aged', \(world.app.id))
                    """, logger: quietLogger)
            }
            let trail = AuditTrail(client: world.runtimeClient, logger: quietLogger)
            #expect(try await trail.seal() == 6)
            #expect(try await maintenance.prune(olderThanDays: 30).events == 3)
            #expect(try await trail.verify() == AuditTrail.Verdict(checked: 3))
            // A kept row removed still shows, at the link after it (a dropped week's row).
            let kept: Int64 = try await world.scalar("SELECT max(id) FROM otp.events WHERE event = 'aged'")
            try await asOwnerPastTheTrigger(world, "DELETE FROM otp.events WHERE id = \(kept - 2)")
            #expect(try await trail.verify().brokenAt == kept - 1)
        }
    }

    func ages(_ world: TestApp) async throws -> [Int] {
        var ages: [Int] = []
        for try await age in try await world.client.query(
            "SELECT extract(day FROM now() - at)::int FROM otp.events WHERE event = 'aged' ORDER BY at",
            logger: quietLogger
        ).decode(Int.self) { ages.append(age) }
        return ages
    }

    @Test func theChainShowsTheFirstEventChangedOrRemoved() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            for index in 0..<6 {
                try await world.client.query(
                    """
                    INSERT INTO otp.events (at, event, app_id, details)
                    VALUES (now() - interval '1 minute', 'send_requested', \(world.app.id), jsonb_build_object('n', \(index)))
                    """, logger: quietLogger)
            }
            let trail = AuditTrail(client: world.runtimeClient, logger: quietLogger)
            #expect(try await trail.seal() == 6)
            #expect(try await trail.seal() == 0, "sealing twice seals nothing more")
            #expect(try await trail.verify() == AuditTrail.Verdict(checked: 6))

            let ids: [Int64] = try await {
                var ids: [Int64] = []
                for try await id in try await world.client.query(
                    "SELECT id FROM otp.events WHERE chain_hash IS NOT NULL ORDER BY id", logger: quietLogger
                ).decode(Int64.self) { ids.append(id) }
                return ids
            }()
            // Past the trigger, as only the owner (a superuser here) can go: change one row.
            try await asOwnerPastTheTrigger(world, "UPDATE otp.events SET details = '{\"n\": 99}' WHERE id = \(ids[2])")
            let changed = try await trail.verify()
            #expect(changed.brokenAt == ids[2] && changed.checked == 2)
            try await asOwnerPastTheTrigger(world, "UPDATE otp.events SET details = '{\"n\": 2}' WHERE id = \(ids[2])")
            #expect(try await trail.verify().intact)
            // Remove one.
            try await asOwnerPastTheTrigger(world, "DELETE FROM otp.events WHERE id = \(ids[4])")
            #expect(try await trail.verify().brokenAt == ids[5])
        }
    }

    /// The sealer's old rule (rows older than 30 s by their time, in id order) passed a row of a
    /// short transaction for one of a long one begun earlier: an event's time is its
    /// transaction's start, its id is drawn at its insert. Sealing now goes by id alone.
    @Test func aFreshRowIsNotPassedForAnOlderOneAfterIt() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.runtimeClient.query(
                "INSERT INTO otp.events (event, app_id) VALUES ('short_transaction', \(world.app.id))",
                logger: quietLogger)
            // A transaction begun a minute ago that wrote its event just now (only the owner may
            // set `at`; a long transaction sets it so by itself).
            try await world.client.query(
                "INSERT INTO otp.events (event, at) VALUES ('long_transaction', now() - interval '1 minute')",
                logger: quietLogger)
            let trail = AuditTrail(client: world.runtimeClient, logger: quietLogger)
            _ = try await trail.seal()
            #expect(try await trail.verify().intact)
            #expect(try await unsealed(world) == 0)
        }
    }

    /// A transaction still open may have drawn an id below rows committed since: the sealer waits
    /// for it (or leaves the rows after it to its next run), so it never commits below the chain.
    @Test func theSealerWaitsForTransactionsThatMayStillCommitBelowIt() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let trail = AuditTrail(client: world.runtimeClient, logger: quietLogger)
            _ = try await trail.seal()
            try await world.runtimeClient.withConnection { open in
                try await open.query("BEGIN", logger: quietLogger)
                try await open.query("INSERT INTO otp.events (event) VALUES ('in_flight')", logger: quietLogger)
                try await world.runtimeClient.query(
                    "INSERT INTO otp.events (event) VALUES ('committed_after')", logger: quietLogger)
                #expect(try await trail.seal(settling: .milliseconds(300)) == 0, "nothing past the open transaction")
                #expect(try await unsealed(world) == 1, "only the committed row is there to see")
                // Sealing that waits long enough takes both once the transaction commits.
                async let sealing = trail.seal(settling: .seconds(30))
                try await Task.sleep(for: .milliseconds(300))
                try await open.query("COMMIT", logger: quietLogger)
                #expect(try await sealing == 2)
            }
            #expect(try await trail.verify().intact)
            #expect(try await unsealed(world) == 0)

            // A transaction that has written nothing holds no event id: it does not hold the sealer.
            try await world.runtimeClient.withConnection { reading in
                try await reading.query("BEGIN", logger: quietLogger)
                try await reading.query("SELECT count(*) FROM otp.apps", logger: quietLogger)
                try await world.runtimeClient.query(
                    "INSERT INTO otp.events (event) VALUES ('beside_a_reader')", logger: quietLogger)
                #expect(try await trail.seal(settling: .milliseconds(300)) == 1)
                try await reading.query("COMMIT", logger: quietLogger)
            }
        }
    }

    func unsealed(_ world: TestApp) async throws -> Int {
        try await world.scalar("SELECT count(*)::int FROM otp.events WHERE chain_hash IS NULL")
    }

    func asOwnerPastTheTrigger(_ world: TestApp, _ sql: String) async throws {
        try await world.client.withTransaction(logger: quietLogger) { connection in
            try await connection.query("SET LOCAL session_replication_role = replica", logger: quietLogger)
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
        }
    }
}
