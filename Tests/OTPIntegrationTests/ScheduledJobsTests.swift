import Foundation
import HummingbirdTesting
import Logging
import OTPCore
import OTPPostgres
import OTPTesting
import PostgresNIO
import Testing

/// `otp expire`, `otp rollup` and `otp prune`, and the reports they feed.
@Suite struct ScheduledJobsTests {
    @Test func expireSettlesOverdueCodesOnceEvenWhenRunTwiceAtOnce() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let overdue = try await world.send(client, code: "123999")
                let fresh = try await world.send(client)
                try await world.setExpiry(overdue, secondsFromNow: -1)
                let maintenance = PostgresMaintenance(client: world.client, logger: quietLogger, batchSize: 1)
                let reports = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<2 { group.addTask { try await maintenance.expire().expiredVerifications } }
                    return try await group.reduce(0, +)
                }
                #expect(reports == 1)
                let status: String = try await world.scalar(
                    "SELECT status FROM otp.verifications WHERE id = \(overdue)")
                #expect(status == "expired")
                let freshStatus: String = try await world.scalar(
                    "SELECT status FROM otp.verifications WHERE id = \(fresh)")
                #expect(freshStatus == "pending")
                let secrets: Bool = try await world.scalar(
                    """
                    SELECT bool_or(v.code_digest IS NOT NULL OR d.sealed_code IS NOT NULL)
                    FROM otp.verifications v JOIN otp.deliveries d ON d.verification_id = v.id WHERE v.id = \(overdue)
                    """)
                #expect(!secrets)
                let delivery: String = try await world.scalar(
                    "SELECT state FROM otp.deliveries WHERE verification_id = \(overdue)")
                #expect(delivery == "failed")
                let events: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.events WHERE verification_id = \(overdue) AND event = 'expired'")
                #expect(events == 1)
                #expect(try await world.verify(client, overdue, code: "123999").errorCode == "EXPIRED")
            }
        }
    }

    /// A day of mixed outcomes, moved to yesterday: 1 verified (WhatsApp), 3 locked, 1 expired, 4 sent.
    func makeYesterday(_ world: TestApp, _ client: some TestClientProtocol) async throws {
        let verified = try await world.send(client, code: "100001", extra: ["channel": "whatsapp"])
        _ = try await world.verify(client, verified, code: "100001")
        for index in 0..<3 {
            // One recipient each: after a locked verification the recipient's next tries must wait.
            let locked = try await world.send(client, code: "200002", recipient: "+551199988870\(index)")
            for _ in 0..<5 { _ = try await world.verify(client, locked, code: "99999\(index)") }
        }
        let expired = try await world.send(client)
        try await world.setExpiry(expired, secondsFromNow: -1)
        for _ in 0..<4 { _ = try await world.send(client) }
        try await world.client.query(
            """
            UPDATE otp.deliveries SET state = 'sent', sealed_code = NULL, sent_at = created_at + interval '120 ms'
            WHERE app_id = \(world.app.id) AND state = 'queued'
            """, logger: quietLogger)
        try await world.client.query(
            """
            UPDATE otp.verifications SET created_at = created_at - interval '1 day',
                expires_at = expires_at - interval '1 day'
            WHERE app_id = \(world.app.id)
            """, logger: quietLogger)
        try await world.client.query(
            """
            UPDATE otp.deliveries SET created_at = created_at - interval '1 day', sent_at = sent_at - interval '1 day'
            WHERE app_id = \(world.app.id)
            """, logger: quietLogger)
    }

    @Test func rollupEqualsADirectCountAndRerunsChangeNothing() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                try await makeYesterday(world, client)
                let yesterday: String = try await world.scalar(
                    "SELECT ((now() AT TIME ZONE 'UTC')::date - 1)::text")
                let maintenance = PostgresMaintenance(client: world.client, logger: quietLogger)
                _ = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<2 { group.addTask { try await maintenance.rollup(days: [yesterday]) } }
                    return try await group.reduce(0, +)
                }
                let first = try await snapshot(world)
                _ = try await maintenance.rollup(days: [yesterday])
                #expect(try await snapshot(world) == first)

                let direct = try await directCounts(world)
                #expect(first == direct)
                // sms: 8 started, 5 sent at 120 ms, 3 locked, 5 expired (moving the day back expired the
                // four still pending); whatsapp: the one verified.
                #expect(first == ["sms:8:5:0:0:3:5:0:120", "whatsapp:1:0:0:0:0:0:1:-1"])

                let report = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&from=\(yesterday)&to=\(yesterday)&group_by=channel",
                    headers: world.basicAuth)
                let totals = try #require(report.json["totals"] as? [String: Any])
                #expect(totals["verifications"] as? Int == 9)
                #expect(totals["verified"] as? Int == 1)
                #expect(totals["locked"] as? Int == 3)
                #expect(totals["expired"] as? Int == 5)
                #expect(abs((totals["conversion_rate"] as? Double ?? 0) - 1.0 / 9) < 1e-9)
                #expect(
                    (report.json["items"] as? [[String: Any]])?.compactMap { $0["channel"] as? String } == [
                        "sms", "whatsapp",
                    ])
                let csv = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&from=\(yesterday)&to=\(yesterday)&format=csv",
                    headers: world.basicAuth)
                let lines = String(buffer: csv.body).split(separator: "\n")
                #expect(
                    lines.first?.hasPrefix("day,verifications,sent,delivered,failed,verified,expired,locked") == true)
                #expect(lines.count == 2 && lines[1].hasPrefix("\(yesterday),9,5,0,0,1,5,3,120"))
            }
        }
    }

    @Test func reportsComputeTodayLive() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let id = try await world.send(client, code: "314159")
                _ = try await world.verify(client, id, code: "314159")
                let report = try await client.get("/otp/reports?appid=\(world.app.id)", headers: world.basicAuth)
                #expect(report.status == .ok)
                let totals = try #require(report.json["totals"] as? [String: Any])
                #expect(totals["verifications"] as? Int == 1 && totals["verified"] as? Int == 1)
                let bad = try await client.get(
                    "/otp/reports?appid=\(world.app.id)&group_by=week", headers: world.basicAuth)
                #expect(bad.errorCode == "VALIDATION_ERROR")
            }
        }
    }

    /// The rollup rows as `channel:verifications:sent:delivered:failed:locked:expired`, plus verified.
    func snapshot(_ world: TestApp) async throws -> [String] {
        var rows: [String] = []
        let query: PostgresQuery = """
            SELECT channel || ':' || verifications || ':' || sent || ':' || delivered || ':' || failed || ':'
                || locked || ':' || expired || ':' || verified || ':' || coalesce(delivery_latency_ms_p50, -1)
            FROM otp.daily_reports WHERE app_id = \(world.app.id) ORDER BY channel
            """
        for try await row in try await world.client.query(query, logger: quietLogger).decode(String.self) {
            rows.append(row)
        }
        return rows
    }

    /// The same numbers counted straight from the raw tables, written independently of the rollup.
    func directCounts(_ world: TestApp) async throws -> [String] {
        var rows: [String] = []
        let query: PostgresQuery = """
            SELECT v.channel || ':' || count(*) || ':'
                || (SELECT count(*) FROM otp.deliveries d JOIN otp.verifications w ON w.id = d.verification_id
                    WHERE w.app_id = \(world.app.id) AND w.channel = v.channel AND d.sent_at IS NOT NULL) || ':'
                || (SELECT count(*) FROM otp.deliveries d JOIN otp.verifications w ON w.id = d.verification_id
                    WHERE w.app_id = \(world.app.id) AND w.channel = v.channel AND d.state = 'delivered') || ':'
                || (SELECT count(*) FROM otp.deliveries d JOIN otp.verifications w ON w.id = d.verification_id
                    WHERE w.app_id = \(world.app.id) AND w.channel = v.channel AND d.state = 'failed') || ':'
                || sum(CASE WHEN v.status = 'locked' THEN 1 ELSE 0 END) || ':'
                || sum(CASE WHEN v.status = 'expired' OR v.expires_at <= now() AND v.status = 'pending'
                    THEN 1 ELSE 0 END) || ':'
                || sum(CASE WHEN v.status = 'verified' THEN 1 ELSE 0 END) || ':'
                || coalesce((SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY
                        extract(epoch FROM d.sent_at - w.created_at) * 1000))::int
                    FROM otp.deliveries d JOIN otp.verifications w ON w.id = d.verification_id
                    WHERE w.app_id = \(world.app.id) AND w.channel = v.channel AND d.sent_at IS NOT NULL), -1)
            FROM otp.verifications v WHERE v.app_id = \(world.app.id) GROUP BY v.channel ORDER BY v.channel
            """
        for try await row in try await world.client.query(query, logger: quietLogger).decode(String.self) {
            rows.append(row)
        }
        return rows
    }

    @Test func pruneDeletesOnlyWhatIsOld() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let old = try await world.send(client, code: "555000")
                _ = try await world.verify(client, old, code: "555000")
                let recent = try await world.send(client)
                for table in ["verifications", "deliveries"] {
                    try await world.client.query(
                        PostgresQuery(
                            unsafeSQL: "UPDATE otp.\(table) SET created_at = now() - interval '100 days' "
                                + "WHERE \(table == "verifications" ? "id" : "verification_id") = '\(old)'"),
                        logger: quietLogger)
                }
                // Weeks back to 120 days, so that the old attempts move into their week's partition.
                let maintenance = PostgresMaintenance(client: world.client, logger: quietLogger)
                _ = try await maintenance.makePartitions(since: Date().addingTimeInterval(-120 * 86_400))
                try await world.client.query(
                    "UPDATE otp.verify_attempts SET at = now() - interval '100 days' WHERE verification_id = \(old)",
                    logger: quietLogger)
                // A provider's try for each (this world's sends are not worked): the old one's in its old week.
                try await world.client.query(
                    """
                    INSERT INTO otp.delivery_attempts (delivery_id, verification_id, app_id, provider, outcome,
                        latency_ms, at)
                    SELECT id, verification_id, app_id, 'twilio', 'accepted', 5,
                        CASE WHEN verification_id = \(old) THEN now() - interval '100 days' ELSE now() END
                    FROM otp.deliveries WHERE verification_id IN (\(old), \(recent))
                    """, logger: quietLogger)
                try await world.client.withTransaction(logger: quietLogger) { connection in
                    // Only the owner can get past the trail's trigger (a superuser here: triggers off).
                    try await connection.query("SET LOCAL session_replication_role = replica", logger: quietLogger)
                    try await connection.query(
                        "DELETE FROM otp.events WHERE verification_id = \(old) AND event = 'send_requested'",
                        logger: quietLogger)
                }
                let attemptsBefore: Int = try await world.scalar("SELECT count(*)::int FROM otp.delivery_attempts")
                let report = try await maintenance.prune(olderThanDays: 90)
                #expect(report.deliveries == 1 && report.verifyAttempts == 1 && report.verifications == 1)
                #expect(report.deliveryAttempts == 1 && report.droppedPartitions.count >= 2)
                let attemptsAfter: Int = try await world.scalar("SELECT count(*)::int FROM otp.delivery_attempts")
                #expect(attemptsAfter == attemptsBefore - 1, "the recent send's attempt stays")
                #expect(
                    try await maintenance.prune(olderThanDays: 90) == PostgresMaintenance.PruneReport(),
                    "a second run finds nothing")
                let left: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE id IN (\(old), \(recent))")
                #expect(left == 1)
                #expect(try await world.status(client, recent).status == .ok)
            }
        }
    }
}
