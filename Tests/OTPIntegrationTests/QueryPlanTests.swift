import Foundation
import OTPCore
import OTPTesting
import PostgresNIO
import Testing

@testable import OTPPostgres

/// Every management list, and the statements of a batch of verifies, is served by an index: no
/// sequential scan of a table or partition that holds rows, checked with EXPLAIN on a million
/// verifications and their history.
@Suite struct QueryPlanTests {
    @Test func listsUseIndexesOnAMillionVerifications() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let other = try await world.directory.createApp(name: "Other", account: "plans", policy: .default)
            // The history tables' weeks back to the oldest row below (1,000,000 s: under 12 days).
            _ = try await PostgresMaintenance(client: world.client, logger: quietLogger)
                .makePartitions(since: Date().addingTimeInterval(-14 * 86_400))
            try await world.client.query(
                """
                INSERT INTO otp.verifications (id, app_id, recipient, channel, status, code_length, ttl_seconds,
                    max_attempts, max_sends, created_at, expires_at, resend_available_at)
                SELECT 'otp_' || lpad(to_hex(n), 26, '0'), CASE WHEN n % 10 = 0 THEN \(world.app.id) ELSE \(other.id) END,
                    '+55119' || lpad((n % 100000000)::text, 8, '0'), CASE WHEN n % 3 = 0 THEN 'whatsapp' ELSE 'sms' END,
                    (ARRAY['pending','verified','expired','locked'])[1 + n % 4], 6, 300, 5, 5,
                    now() - make_interval(secs => n), now() - make_interval(secs => n) + interval '5 minutes',
                    now() - make_interval(secs => n)
                FROM generate_series(1, 1000000) AS n
                """, logger: quietLogger)
            try await world.client.query(
                """
                INSERT INTO otp.events (event, app_id, verification_id, at)
                SELECT 'send_requested', v.app_id, v.id, v.created_at FROM otp.verifications v
                """, logger: quietLogger)
            try await world.client.query(
                """
                INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, state, expires_at, created_at,
                    provider, provider_message_id, sent_at)
                SELECT v.id, v.app_id, v.channel, v.recipient, 'sent', v.expires_at, v.created_at, 'twilio',
                    'SM' || md5(v.id), v.created_at FROM otp.verifications v
                """, logger: quietLogger)
            try await world.client.query(
                """
                INSERT INTO otp.delivery_attempts (delivery_id, verification_id, app_id, provider, outcome, latency_ms, at)
                SELECT d.id, d.verification_id, d.app_id, 'twilio', 'accepted', 100, d.created_at
                FROM otp.deliveries d WHERE d.id % 4 = 0
                """, logger: quietLogger)
            try await world.client.query(
                """
                INSERT INTO otp.verify_attempts (verification_id, app_id, success, reason, at)
                SELECT v.id, v.app_id, false, 'invalid_code', v.created_at FROM otp.verifications v
                WHERE v.status = 'locked'
                """, logger: quietLogger)
            for table in ["verifications", "events", "verify_attempts", "deliveries", "delivery_attempts"] {
                try await world.client.query(PostgresQuery(unsafeSQL: "ANALYZE otp.\(table)"), logger: quietLogger)
            }

            let scope = ListScope(appIDs: [world.app.id], from: nil, to: nil, limit: 50, cursor: nil)
            let queries: [(String, PostgresQuery)] = [
                (
                    "list",
                    try PostgresManagementStore.verificationsQuery(
                        scope, VerificationFilter(status: nil, channel: nil, recipient: nil))
                ),
                (
                    "list by status",
                    try PostgresManagementStore.verificationsQuery(
                        scope, VerificationFilter(status: .verified, channel: .sms, recipient: nil))
                ),
                (
                    "list by recipient",
                    try PostgresManagementStore.verificationsQuery(
                        scope, VerificationFilter(status: nil, channel: nil, recipient: "+5511900000010"))
                ),
                ("logs", try PostgresManagementStore.eventsQuery(scope, verificationID: nil, event: nil)),
                (
                    "logs of one",
                    try PostgresManagementStore.eventsQuery(
                        scope, verificationID: "otp_00000000000000000000000010", event: nil)
                ),
                (
                    "attempts",
                    try PostgresManagementStore.attemptsQuery(
                        scope, verificationID: nil, recipient: nil, kind: nil)
                ),
                (
                    "attempts by recipient",
                    try PostgresManagementStore.attemptsQuery(
                        scope, verificationID: nil, recipient: "+5511900000010", kind: nil)
                ),
                // A batch of verifies, as VerifyBatch writes its statements.
                (
                    "lock guesses",
                    PostgresQuery(
                        unsafeSQL: LockGuessesStatement.sql,
                        binds: try LockGuessesStatement(appIDs: [world.app.id], recipients: ["+5511900000010"])
                            .makeBindings())
                ),
                (
                    "failure counts",
                    PostgresQuery(
                        unsafeSQL: FailureCountsStatement.sql,
                        binds: try FailureCountsStatement(failureKeys: ["\(world.app.id)|+5511900000010"])
                            .makeBindings())
                ),
                (
                    "record verifies",
                    PostgresQuery(
                        unsafeSQL: RecordVerifiesStatement.sql,
                        binds: try RecordVerifiesStatement(
                            decisions: """
                                [{"n": 0, "id": "otp_00000000000000000000000010", "app_id": "\(world.app.id)",
                                  "recipient": "+5511900000010", "status": "locked", "attempts": 5,
                                  "verified": false, "outcome": "MAX_ATTEMPTS_EXCEEDED", "counts": true,
                                  "ip": "192.0.2.1", "actor": "key", "events": ["verify_failed", "locked"],
                                  "guesses": "wrong", "failure_key": "\(world.app.id)|+5511900000010",
                                  "failure_max": 100, "refused_by": ""}]
                                """,
                            verificationIDs: ["otp_00000000000000000000000010"], appIDs: [world.app.id],
                            recipients: ["+5511900000010"]
                        ).makeBindings())
                ),
            ]
            for (name, query) in queries {
                var explain = query
                explain.sql = "EXPLAIN " + query.sql
                var plan: [String] = []
                for try await line in try await world.client.query(explain, logger: quietLogger).decode(String.self) {
                    plan.append(line)
                }
                let text = plan.joined(separator: "\n")
                // The planner may scan an empty partition (a week ahead) rather than probe its index.
                for scanned in sequentiallyScanned(text) {
                    let rows: Int = try await world.scalar(
                        PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM (SELECT 1 FROM \(scanned) LIMIT 1) x"))
                    #expect(rows == 0, "\(name) scans \(scanned), which holds rows:\n\(text)")
                }
            }
        }
    }

    /// The tables a plan reads with a sequential scan, schema-qualified.
    func sequentiallyScanned(_ plan: String) -> [String] {
        plan.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "Seq Scan on ") else { return nil }
            let table = line[range.upperBound...].prefix { $0 != " " }
            return table.contains("_20") || table.hasSuffix("_default") ? "otp_history.\(table)" : "otp.\(table)"
        }
    }
}
