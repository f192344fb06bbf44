import Foundation
import OTPCore
import PostgresNIO

/// The counts the fraud guard judges a batch of sends by: per app and scope, the sends and verifies
/// of the last hour (the current five-minute bucket and the eleven before it) and of the last 14
/// days (today and the 13 before), from `otp.fraud_recent` and `otp.fraud_daily` (migration 0022).
/// One statement in the batch's transaction, before `otp.send_batch` counts the batch itself,
/// prepared once per connection.
struct FraudCountsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT s.n::int,
            coalesce(r.sent, 0)::int, coalesce(r.verified, 0)::int,
            coalesce(d.sent, 0)::int, coalesce(d.verified, 0)::int
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s (app_id, scope, n)
        LEFT JOIN LATERAL (
            SELECT sum(k.sent) AS sent, sum(k.verified) AS verified FROM otp.fraud_recent k
            WHERE k.app_id = s.app_id AND k.scope = s.scope
                AND k.bucket >= date_bin('5 minutes', now(), timestamptz '2000-01-01') - interval '55 minutes'
        ) r ON true
        LEFT JOIN LATERAL (
            SELECT sum(k.sent) AS sent, sum(k.verified) AS verified FROM otp.fraud_daily k
            WHERE k.app_id = s.app_id AND k.scope = s.scope
                AND k.day > (now() AT TIME ZONE 'UTC')::date - 14
        ) d ON true
        """
    typealias Row = (Int, Int, Int, Int, Int)

    var appIDs: [String]
    var scopes: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(appIDs)
        bindings.append(scopes)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }

    /// The figures of each scope, read by this statement (prepared once per connection).
    static func counts(
        of scopes: Set<FraudGuard.Counted>, on connection: PostgresConnection, logger: Logger
    ) async throws -> [FraudGuard.Counted: FraudFigures] {
        let sorted = Array(scopes)
        let statement = FraudCountsStatement(appIDs: sorted.map(\.appID), scopes: sorted.map(\.scope.key))
        var counts: [FraudGuard.Counted: FraudFigures] = [:]
        for try await (n, recentSent, recentVerified, historySent, historyVerified) in try await connection.execute(
            statement, logger: logger)
        {
            counts[sorted[n - 1]] = FraudFigures(
                recentSent: recentSent, recentVerified: recentVerified, historySent: historySent,
                historyVerified: historyVerified)
        }
        return counts
    }
}
