import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Fixed-window counters in `otp.rate_limit_counters`, charged inside the caller's transaction.
///
/// One call charges every counter and refuses when any is full: a counter only goes up while below
/// its limit (`ON CONFLICT ... WHERE count < max_count`), and when one did not, it raises `OT429`
/// and the whole transaction rolls back, the other counters' charges with it.
/// Concurrent charges of one counter wait on its row lock, so a limit of 5 admits exactly 5.
enum PostgresRateLimiter {
    static func charge(_ charges: [RateLimitCharge], on connection: PostgresConnection, logger: Logger) async throws {
        try await charge(
            charges.map {
                ChargeStatement.Counter(
                    rule: $0.rule.rawValue, scopeKey: $0.scopeKey, limit: $0.limit, windowSeconds: $0.rule.windowSeconds
                )
            }, on: connection, logger: logger)
    }

    /// Charges counters of rules outside the apps' own (the dashboard's login tries).
    static func charge(_ counters: [ChargeStatement.Counter], on connection: PostgresConnection, logger: Logger)
        async throws
    {
        guard !counters.isEmpty else { return }
        do {
            // Read the answer: the refusal is raised while the statement runs, after execute() returned.
            for try await _ in try await connection.execute(ChargeStatement(counters: counters), logger: logger) {}
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "OT429" {
            throw refusal(error.serverInfo?[.detail] ?? "")
        }
    }

    /// The refusal the limiter's functions describe as "rule seconds-until-the-window-ends".
    static func refusal(_ detail: String) -> OTPFailure {
        let parts = detail.split(separator: " ")
        let seconds = parts.count == 2 ? Int(parts[1]) ?? 1 : 1
        return OTPFailure.rateLimited(
            rule: parts.first.map(String.init) ?? "unknown", retryAfterSeconds: max(1, seconds))
    }

    /// Each charge's counter in its current window (all shards of a sharded counter together).
    static func usage(of charges: [RateLimitCharge], client: PostgresClient, logger: Logger) async throws
        -> [RateLimitStatus]
    {
        guard !charges.isEmpty else { return [] }
        let rows = try await client.query(
            """
            WITH charges AS (
                SELECT rule, scope_key, max_count, win, ordinality,
                    to_timestamp((floor(extract(epoch FROM now()) / win) * win)::float8) AS window_start
                FROM unnest(\(charges.map(\.rule.rawValue)), \(charges.map(\.scopeKey)), \(charges.map(\.limit)),
                    \(charges.map(\.rule.windowSeconds))) WITH ORDINALITY AS x (rule, scope_key, max_count, win, ordinality)
            )
            SELECT x.rule,
                coalesce((SELECT sum(c.count) FROM otp.rate_limit_counters c
                    WHERE c.rule = x.rule AND c.window_start = x.window_start
                        AND (c.scope_key = x.scope_key OR c.scope_key LIKE x.scope_key || '#%')), 0)::bigint,
                x.window_start + make_interval(secs => x.win)
            FROM charges x ORDER BY x.ordinality
            """, logger: logger)
        var statuses: [RateLimitStatus] = []
        var index = 0
        for try await (rule, used, resetAt) in rows.decode((String, Int, Date).self) {
            let charge = charges[index]
            index += 1
            guard let known = RateLimitRule(rawValue: rule) else { continue }
            statuses.append(
                RateLimitStatus(rule: known, scope: known.scope, limit: charge.limit, used: used, resetAt: resetAt))
        }
        return statuses
    }
}

/// Charges one use to each counter with `otp.charge_counters` (`sql/functions/charge_counters.sql`):
/// a refusal raises OT429 and rolls the transaction back; prepared once per connection.
struct ChargeStatement: PostgresPreparedStatement {
    static let sql = "SELECT otp.charge_counters($1::text[], $2::text[], $3::bigint[], $4::bigint[])"
    typealias Row = Bool

    struct Counter: Sendable {
        var rule: String
        var scopeKey: String
        var limit: Int
        var windowSeconds: Int
    }

    var counters: [Counter]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(counters.map(\.rule))
        bindings.append(counters.map(\.scopeKey))
        bindings.append(counters.map(\.limit))
        bindings.append(counters.map(\.windowSeconds))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
}
