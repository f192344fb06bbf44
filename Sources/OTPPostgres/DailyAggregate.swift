import Foundation
import OTPCore
import PostgresNIO

/// The report numbers of one UTC day, per app, channel and country, counted from the raw tables.
/// The rollup stores this; the reports compute it live for today. One query serves both.
enum DailyAggregate {
    /// app, day, channel, country, verifications, sent, delivered, failed, verified, expired, locked,
    /// latency p50 and p95, sends the fraud guard refused and flagged, cost.
    typealias Columns = (
        String, String, String, String, Int, Int, Int, Int, Int, Int, Int, Int?, Int?, Int, Int, Decimal
    )

    static func part(_ columns: Columns) -> ReportPart {
        var part = ReportPart(day: columns.1, channel: columns.2, country: columns.3)
        var numbers = ReportRow(key: "")
        (numbers.verifications, numbers.sent, numbers.delivered, numbers.failed) = (
            columns.4, columns.5, columns.6, columns.7
        )
        (numbers.verified, numbers.expired, numbers.locked) = (columns.8, columns.9, columns.10)
        (numbers.latencyP50, numbers.latencyP95) = (columns.11, columns.12)
        (numbers.fraudBlocked, numbers.fraudFlagged, numbers.cost) = (columns.13, columns.14, columns.15)
        part.numbers = numbers
        return part
    }

    /// Verifications started on `day` (YYYY-MM-DD, UTC) of `appIDs` (every app when nil), and the
    /// sends the fraud guard refused or flagged that day (from their events, which name the send's
    /// channel and country: a refused send has no verification). Delivery latency is from the send
    /// request to the first message a provider accepted.
    static func select(day: String, appIDs: [String]?) -> PostgresQuery {
        """
        WITH v AS (
            SELECT v.app_id, v.channel, v.country,
                count(*)::int AS verifications,
                coalesce(sum(d.sent), 0)::int AS sent, coalesce(sum(d.delivered), 0)::int AS delivered,
                coalesce(sum(d.failed), 0)::int AS failed,
                (count(*) FILTER (WHERE v.status = 'verified'))::int AS verified,
                (count(*) FILTER (WHERE otp.effective_status(v.status, v.expires_at) = 'expired'))::int AS expired,
                (count(*) FILTER (WHERE v.status = 'locked'))::int AS locked,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d.latency_ms))::int AS p50,
                round(percentile_cont(0.95) WITHIN GROUP (ORDER BY d.latency_ms))::int AS p95,
                coalesce(sum(d.cost), 0) AS cost
            FROM otp.verifications v
            LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
                    count(*) FILTER (WHERE state = 'delivered') AS delivered,
                    count(*) FILTER (WHERE state = 'failed') AS failed,
                    extract(epoch FROM min(sent_at) - v.created_at)::float8 * 1000 AS latency_ms,
                (SELECT sum(a.price) FROM otp.delivery_attempts a WHERE a.verification_id = v.id) AS cost
                FROM otp.deliveries WHERE verification_id = v.id
            ) d ON true
            WHERE (\(appIDs)::text[] IS NULL OR v.app_id = ANY(\(appIDs)::text[])) AND NOT v.test
                AND v.created_at >= (\(day)::date)::timestamp AT TIME ZONE 'UTC'
                AND v.created_at < (\(day)::date + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY v.app_id, v.channel, v.country
        ), f AS (
            SELECT e.app_id, e.details ->> 'channel' AS channel, e.details ->> 'country' AS country,
                (count(*) FILTER (WHERE e.event = 'fraud_blocked'))::int AS blocked,
                (count(*) FILTER (WHERE e.event = 'fraud_flagged'))::int AS flagged
            FROM otp.events e
            WHERE e.event IN ('fraud_blocked', 'fraud_flagged')
                AND (\(appIDs)::text[] IS NULL OR e.app_id = ANY(\(appIDs)::text[]))
                AND e.at >= (\(day)::date)::timestamp AT TIME ZONE 'UTC'
                AND e.at < (\(day)::date + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2, 3
        )
        SELECT coalesce(v.app_id, f.app_id), \(day)::date::text, coalesce(v.channel, f.channel),
            coalesce(v.country, f.country), coalesce(v.verifications, 0), coalesce(v.sent, 0),
            coalesce(v.delivered, 0), coalesce(v.failed, 0), coalesce(v.verified, 0), coalesce(v.expired, 0),
            coalesce(v.locked, 0), v.p50, v.p95, coalesce(f.blocked, 0), coalesce(f.flagged, 0),
            coalesce(v.cost, 0)
        FROM v FULL JOIN f ON f.app_id = v.app_id AND f.channel = v.channel AND f.country = v.country
        """
    }

    /// Upserts `day`'s rows into `otp.daily_reports`: a rerun gives the same rows, and two runs at
    /// once serialise on the primary key.
    static func upsert(day: String) -> PostgresQuery {
        var query = select(day: day, appIDs: nil)
        query.sql =
            """
            INSERT INTO otp.daily_reports (app_id, day, channel, country, verifications, sent, delivered, failed,
                verified, expired, locked, delivery_latency_ms_p50, delivery_latency_ms_p95, fraud_blocked,
                fraud_flagged, cost)
            SELECT app_id, day::date, channel, country, verifications, sent, delivered, failed, verified, expired,
                locked, p50, p95, blocked, flagged, cost
            FROM (
            """ + query.sql
                + """
                ) AS today (app_id, day, channel, country, verifications, sent, delivered, failed, verified, expired,
                    locked, p50, p95, blocked, flagged, cost)
                ON CONFLICT (app_id, day, channel, country) DO UPDATE SET verifications = EXCLUDED.verifications,
                    sent = EXCLUDED.sent, delivered = EXCLUDED.delivered, failed = EXCLUDED.failed,
                    verified = EXCLUDED.verified, expired = EXCLUDED.expired, locked = EXCLUDED.locked,
                    delivery_latency_ms_p50 = EXCLUDED.delivery_latency_ms_p50,
                    delivery_latency_ms_p95 = EXCLUDED.delivery_latency_ms_p95,
                    fraud_blocked = EXCLUDED.fraud_blocked, fraud_flagged = EXCLUDED.fraud_flagged,
                    cost = EXCLUDED.cost, updated_at = now()
                RETURNING 1
                """
        return query
    }
}
