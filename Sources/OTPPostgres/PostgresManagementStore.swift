import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The management lists and reports. Lists are newest first with keyset cursors (the last row's
/// sort key, opaque to clients), so a walk page by page sees every row once while new rows arrive.
package struct PostgresManagementStore: ManagementStore {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func verifications(_ scope: ListScope, _ filter: VerificationFilter) async throws
        -> Page<VerificationReport>
    {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(try Self.verificationsQuery(scope, filter), logger: logger)
            var items: [VerificationReport] = []
            var keys: [String] = []
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let report = try VerificationRows.report(columns)
                items.append(report)
                keys.append(Cursor.encode([try columns.value("cursor_time"), report.id]))
            }
            return Self.page(items, keys: keys, limit: scope.limit)
        }
    }

    package func events(_ scope: ListScope, verificationID: String?, event: String?) async throws -> Page<AuditEvent> {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                try Self.eventsQuery(scope, verificationID: verificationID, event: event), logger: logger)
            var items: [AuditEvent] = []
            for try await row in rows {
                let columns = row.makeRandomAccess()
                items.append(
                    AuditEvent(
                        id: try columns.value("id"), at: try columns.value("at"), event: try columns.value("event"),
                        appID: try columns.value("app_id"), verificationID: try columns.value("verification_id"),
                        actor: try columns.value("actor"), ip: try columns.value("ip"),
                        details: try columns.value("details"), test: try columns.value("test")))
            }
            return Self.page(items, keys: items.map { Cursor.encode([String($0.id)]) }, limit: scope.limit)
        }
    }

    package func attempts(_ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?)
        async throws -> Page<AttemptRecord>
    {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                try Self.attemptsQuery(scope, verificationID: verificationID, recipient: recipient, kind: kind),
                logger: logger)
            var items: [AttemptRecord] = []
            var keys: [String] = []
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let kind = try AttemptRecord.Kind.stored(columns.value("kind"))
                let id: Int64 = try columns.value("id")
                var record = AttemptRecord(
                    kind: kind, id: id, at: try columns.value("at"),
                    verificationID: try columns.value("verification_id"),
                    appID: try columns.value("app_id"))
                record.success = try columns.value("success")
                record.reason = try columns.value("reason")
                record.ip = try columns.value("ip")
                record.provider = try columns.value("provider")
                record.outcome = try columns.value("outcome")
                record.httpStatus = try columns.value("http_status")
                record.providerMessageID = try columns.value("provider_message_id")
                record.error = try columns.value("error")
                record.latencyMilliseconds = try columns.value("latency_ms")
                record.event = try columns.value("event")
                record.url = try columns.value("url")
                items.append(record)
                keys.append(Cursor.encode([try columns.value("key"), kind.rawValue, String(id)]))
            }
            return Self.page(items, keys: keys, limit: scope.limit)
        }
    }

    package func reportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart] {
        return try await DatabaseFaults.mapping {
            // Whole past days come from the rollups; today (UTC) is computed from the raw tables.
            var parts: [ReportPart] = []
            let rolled = try await client.query(
                """
                SELECT app_id, day::text, channel, country, verifications, sent, delivered, failed, verified, expired, locked,
                    delivery_latency_ms_p50, delivery_latency_ms_p95, fraud_blocked, fraud_flagged, cost
                FROM otp.daily_reports
                WHERE app_id = ANY(\(appIDs)) AND day BETWEEN \(from)::date AND \(to)::date
                    AND day < (now() AT TIME ZONE 'UTC')::date
                """, logger: logger)
            for try await row in rolled.decode(DailyAggregate.Columns.self) { parts.append(DailyAggregate.part(row)) }
            if let day = try await today(within: from, to) {
                let live = try await client.query(DailyAggregate.select(day: day, appIDs: appIDs), logger: logger)
                for try await row in live.decode(DailyAggregate.Columns.self) { parts.append(DailyAggregate.part(row)) }
            }
            return parts
        }
    }

    package func providerReportParts(appIDs: [String], from: String, to: String) async throws -> [ReportPart] {
        try await DatabaseFaults.mapping {
            // As `reportParts`: past days from the rollup, today live.
            var parts: [ReportPart] = []
            let rolled = try await client.query(
                """
                SELECT \(unescaped: ProviderAggregate.selectColumns) FROM otp.daily_provider_reports
                WHERE app_id = ANY(\(appIDs)) AND day BETWEEN \(from)::date AND \(to)::date
                    AND day < (now() AT TIME ZONE 'UTC')::date
                """, logger: logger)
            for try await row in rolled.decode(ProviderAggregate.Columns.self) {
                parts.append(ProviderAggregate.part(row))
            }
            if let day = try await today(within: from, to) {
                let live = try await client.query(ProviderAggregate.select(day: day, appIDs: appIDs), logger: logger)
                for try await row in live.decode(ProviderAggregate.Columns.self) {
                    parts.append(ProviderAggregate.part(row))
                }
            }
            return parts
        }
    }

    /// Today (UTC, on the database's clock) when it is between `from` and `to`.
    private func today(within from: String, _ to: String) async throws -> String? {
        let rows = try await client.query(
            """
            SELECT (now() AT TIME ZONE 'UTC')::date::text,
                (now() AT TIME ZONE 'UTC')::date BETWEEN \(from)::date AND \(to)::date
            """, logger: logger)
        for try await (day, included) in rows.decode((String, Bool).self) { return included ? day : nil }
        return nil
    }

    package func fraudActivity(appIDs: [String]) async throws -> FraudActivity {
        try await DatabaseFaults.mapping {
            var scopes: [FraudActivity.Scope] = []
            let scopeRows = try await client.query(
                """
                SELECT e.app_id, e.details ->> 'rule', e.details ->> 'scope',
                    (count(*) FILTER (WHERE e.event = 'fraud_blocked'))::int,
                    (count(*) FILTER (WHERE e.event = 'fraud_flagged'))::int,
                    ((array_agg(e.details ->> 'sent_1h' ORDER BY e.id DESC))[1])::int,
                    ((array_agg(e.details ->> 'verified_1h' ORDER BY e.id DESC))[1])::int,
                    max(e.at)
                FROM otp.events e
                WHERE e.app_id = ANY(\(appIDs)) AND e.event IN ('fraud_blocked', 'fraud_flagged')
                    AND e.at > now() - interval '1 hour'
                GROUP BY 1, 2, 3 ORDER BY max(e.at) DESC LIMIT 100
                """, logger: logger)
            for try await (app, rule, scope, blocked, flagged, sent, verified, latest) in scopeRows.decode(
                (String, String, String, Int, Int, Int, Int, Date).self)
            {
                scopes.append(
                    .init(
                        appID: app, rule: rule, scope: scope, blocked: blocked, flagged: flagged, sentLastHour: sent,
                        verifiedLastHour: verified, latest: latest))
            }
            var hours: [FraudActivity.Hour] = []
            let hourRows = try await client.query(
                """
                SELECT h.start, (count(e.id) FILTER (WHERE e.event = 'fraud_blocked'))::int,
                    (count(e.id) FILTER (WHERE e.event = 'fraud_flagged'))::int
                FROM generate_series(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', now()),
                    interval '1 hour') AS h (start)
                LEFT JOIN otp.events e ON e.app_id = ANY(\(appIDs))
                    AND e.event IN ('fraud_blocked', 'fraud_flagged')
                    AND e.at >= h.start AND e.at < h.start + interval '1 hour'
                GROUP BY h.start ORDER BY h.start
                """, logger: logger)
            for try await (start, blocked, flagged) in hourRows.decode((Date, Int, Int).self) {
                hours.append(.init(start: start, blocked: blocked, flagged: flagged))
            }
            return FraudActivity(scopes: scopes, hours: hours)
        }
    }

    static func verificationsQuery(_ scope: ListScope, _ filter: VerificationFilter) throws -> PostgresQuery {
        let after = try scope.cursor.map { try Cursor.decode($0, parts: [.time, .id]) }
        let status = filter.status?.rawValue
        return """
            SELECT \(unescaped: VerificationRows.columns), v.created_at::text AS cursor_time
            FROM otp.verifications v
            WHERE v.app_id = ANY(\(scope.appIDs))
                AND (\(status)::text IS NULL OR otp.effective_status(v.status, v.expires_at) = \(status)::text)
                AND (\(filter.channel?.rawValue)::text IS NULL OR v.channel = \(filter.channel?.rawValue)::text)
                AND (\(filter.recipient)::text IS NULL OR v.recipient = \(filter.recipient)::text)
                AND (\(scope.from)::timestamptz IS NULL OR v.created_at >= \(scope.from)::timestamptz)
                AND (\(scope.to)::timestamptz IS NULL OR v.created_at <= \(scope.to)::timestamptz)
                AND (\(after?[0])::text IS NULL
                    OR (v.created_at, v.id) < (\(after?[0])::timestamptz, \(after?[1])::text))
            ORDER BY v.created_at DESC, v.id DESC
            LIMIT \(scope.limit + 1)
            """
    }

    static func eventsQuery(_ scope: ListScope, verificationID: String?, event: String?) throws -> PostgresQuery {
        let after = try scope.cursor.map { try Cursor.decode($0, parts: [.integer]) }.flatMap { Int64($0[0]) }
        return """
            SELECT id, at, event, app_id, verification_id, actor, ip, details::text,
                coalesce((SELECT v.test FROM otp.verifications v WHERE v.id = otp.events.verification_id), false)
                    AS test
            FROM otp.events
            WHERE app_id = ANY(\(scope.appIDs))
                AND (\(verificationID)::text IS NULL OR verification_id = \(verificationID)::text)
                AND (\(event)::text IS NULL OR event = \(event)::text)
                AND (\(scope.from)::timestamptz IS NULL OR at >= \(scope.from)::timestamptz)
                AND (\(scope.to)::timestamptz IS NULL OR at <= \(scope.to)::timestamptz)
                AND (\(after)::bigint IS NULL OR id < \(after)::bigint)
            ORDER BY id DESC
            LIMIT \(scope.limit + 1)
            """
    }

    static func attemptsQuery(
        _ scope: ListScope, verificationID: String?, recipient: String?, kind: AttemptRecord.Kind?
    ) throws -> PostgresQuery {
        let after = try scope.cursor.map { try Cursor.decode($0, parts: [.time, .id, .integer]) }
        let kindName = kind?.rawValue
        return """
            WITH scoped AS (
                SELECT id FROM otp.verifications
                WHERE app_id = ANY(\(scope.appIDs)) AND recipient = \(recipient)::text
            )
            SELECT * FROM (
                (SELECT 'verify' AS kind, a.id, a.at, a.verification_id, a.app_id, a.success, a.reason, a.ip,
                    NULL::text AS provider, NULL::text AS outcome, NULL::int AS http_status,
                    NULL::text AS provider_message_id, NULL::text AS error, NULL::int AS latency_ms,
                    NULL::text AS event, NULL::text AS url, a.at::text AS key
                FROM otp.verify_attempts a
                WHERE a.app_id = ANY(\(scope.appIDs)) AND coalesce(\(kindName)::text, 'verify') = 'verify'
                    AND (\(verificationID)::text IS NULL OR a.verification_id = \(verificationID)::text)
                    AND (\(recipient)::text IS NULL OR a.verification_id IN (SELECT id FROM scoped))
                    AND (\(scope.from)::timestamptz IS NULL OR a.at >= \(scope.from)::timestamptz)
                    AND (\(scope.to)::timestamptz IS NULL OR a.at <= \(scope.to)::timestamptz)
                    AND (\(after?[0])::text IS NULL
                        OR (a.at, 'verify', a.id) < (\(after?[0])::timestamptz, \(after?[1])::text, \(after?[2])::bigint))
                ORDER BY a.at DESC, a.id DESC LIMIT \(scope.limit + 1))
                UNION ALL
                (SELECT 'delivery', a.id, a.at, a.verification_id, a.app_id, NULL, NULL, NULL, a.provider, a.outcome,
                    a.http_status, a.provider_message_id, coalesce(a.error_code || ': ' || a.error, a.error_code, a.error),
                    a.latency_ms, NULL, NULL, a.at::text
                FROM otp.delivery_attempts a
                WHERE a.app_id = ANY(\(scope.appIDs)) AND coalesce(\(kindName)::text, 'delivery') = 'delivery'
                    AND (\(verificationID)::text IS NULL OR a.verification_id = \(verificationID)::text)
                    AND (\(recipient)::text IS NULL OR a.verification_id IN (SELECT id FROM scoped))
                    AND (\(scope.from)::timestamptz IS NULL OR a.at >= \(scope.from)::timestamptz)
                    AND (\(scope.to)::timestamptz IS NULL OR a.at <= \(scope.to)::timestamptz)
                    AND (\(after?[0])::text IS NULL
                        OR (a.at, 'delivery', a.id) < (\(after?[0])::timestamptz, \(after?[1])::text, \(after?[2])::bigint))
                ORDER BY a.at DESC, a.id DESC LIMIT \(scope.limit + 1))
                UNION ALL
                (SELECT 'webhook', a.id, a.at, a.verification_id, a.app_id, NULL, NULL, NULL, NULL, NULL,
                    a.http_status, NULL, a.error, a.latency_ms, a.event, a.url, a.at::text
                FROM otp.webhook_attempts a
                WHERE a.app_id = ANY(\(scope.appIDs)) AND coalesce(\(kindName)::text, 'webhook') = 'webhook'
                    AND (\(verificationID)::text IS NULL OR a.verification_id = \(verificationID)::text)
                    AND (\(recipient)::text IS NULL OR a.verification_id IN (SELECT id FROM scoped))
                    AND (\(scope.from)::timestamptz IS NULL OR a.at >= \(scope.from)::timestamptz)
                    AND (\(scope.to)::timestamptz IS NULL OR a.at <= \(scope.to)::timestamptz)
                    AND (\(after?[0])::text IS NULL
                        OR (a.at, 'webhook', a.id) < (\(after?[0])::timestamptz, \(after?[1])::text, \(after?[2])::bigint))
                ORDER BY a.at DESC, a.id DESC LIMIT \(scope.limit + 1))
            ) all_kinds
            ORDER BY at DESC, kind DESC, id DESC
            LIMIT \(scope.limit + 1)
            """
    }

    static func page<Item>(_ items: [Item], keys: [String], limit: Int) -> Page<Item> {
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        return Page(items: Array(items.prefix(limit)), nextCursor: keys[limit - 1])
    }
}

/// Opaque cursors: the sort key of the last row returned, base64url-encoded.
enum Cursor {
    /// What each part of a cursor holds; checked before any of it reaches SQL.
    enum Part {
        /// PostgreSQL's `timestamptz::text` (`2026-12-01 21:37:20.123456+00`).
        case time
        /// An id of ours: 1 to 100 characters of `[0-9A-Za-z_]`.
        case id
        case integer
    }

    static func encode(_ parts: [String]) -> String {
        Data(parts.joined(separator: "\u{1F}").utf8).base64URLEncoded()
    }

    static func decode(_ text: String, parts: [Part]) throws -> [String] {
        guard !text.isEmpty, text.utf8.count <= 512, let data = Data(base64URLEncoded: text),
            let decoded = String(data: data, encoding: .utf8)
        else { throw CursorError.invalid }
        let fields = decoded.components(separatedBy: "\u{1F}")
        guard fields.count == parts.count, zip(fields, parts).allSatisfy({ valid($0, as: $1) }) else {
            throw CursorError.invalid
        }
        return fields
    }

    static func valid(_ field: String, as part: Part) -> Bool {
        switch part {
        case .time:
            field.wholeMatch(of: /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?/) != nil
        case .id:
            (1...100).contains(field.utf8.count)
                && field.unicodeScalars.allSatisfy {
                    $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_")
                }
        case .integer:
            Int64(field) != nil
        }
    }
}
