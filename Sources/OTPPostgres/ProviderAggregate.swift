import Foundation
import OTPCore
import PostgresNIO

/// The report numbers of one UTC day per app, channel, country and provider: the messages each
/// provider carried (deliveries it sent) for verifications started that day, their receipts, how
/// many of those verifications were verified, the latency from the send request to its message
/// being accepted, and what its attempts cost. The rollup stores it in
/// `otp.daily_provider_reports`; the reports compute it live for today.
enum ProviderAggregate {
    /// app, day, channel, country, provider, verifications, sent, delivered, failed, verified,
    /// latency p50 and p95, cost.
    typealias Columns = (String, String, String, String, String, Int, Int, Int, Int, Int, Int?, Int?, Decimal)

    static func part(_ columns: Columns) -> ReportPart {
        var part = ReportPart(day: columns.1, channel: columns.2, country: columns.3)
        part.provider = columns.4
        (part.numbers.verifications, part.numbers.sent) = (columns.5, columns.6)
        (part.numbers.delivered, part.numbers.failed, part.numbers.verified) = (columns.7, columns.8, columns.9)
        (part.numbers.latencyP50, part.numbers.latencyP95, part.numbers.cost) = (columns.10, columns.11, columns.12)
        return part
    }

    static let selectColumns = """
        app_id, day::text, channel, country, provider, verifications, sent, delivered, failed, verified,
        delivery_latency_ms_p50, delivery_latency_ms_p95, cost
        """

    /// Verifications started on `day` of `appIDs` (every app when nil), by the provider of each of
    /// their sent messages.
    static func select(day: String, appIDs: [String]?) -> PostgresQuery {
        """
        SELECT v.app_id, \(day)::date::text AS day, d.channel, v.country, d.provider,
            (count(DISTINCT v.id))::int AS verifications, count(*)::int AS sent,
            (count(*) FILTER (WHERE d.state = 'delivered'))::int AS delivered,
            (count(*) FILTER (WHERE d.state = 'failed'))::int AS failed,
            (count(DISTINCT v.id) FILTER (WHERE v.status = 'verified'))::int AS verified,
            round(percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM d.sent_at - v.created_at)::float8 * 1000))::int AS p50,
            round(percentile_cont(0.95) WITHIN GROUP (
                ORDER BY extract(epoch FROM d.sent_at - v.created_at)::float8 * 1000))::int AS p95,
            coalesce(sum(c.cost), 0) AS cost
        FROM otp.verifications v
        JOIN otp.deliveries d ON d.verification_id = v.id
        LEFT JOIN LATERAL (
            SELECT sum(a.price) AS cost FROM otp.delivery_attempts a
            WHERE a.delivery_id = d.id AND a.provider = d.provider
        ) c ON true
        WHERE (\(appIDs)::text[] IS NULL OR v.app_id = ANY(\(appIDs)::text[])) AND NOT v.test
            AND d.sent_at IS NOT NULL AND d.provider IS NOT NULL
            AND v.created_at >= (\(day)::date)::timestamp AT TIME ZONE 'UTC'
            AND v.created_at < (\(day)::date + 1)::timestamp AT TIME ZONE 'UTC'
        GROUP BY v.app_id, d.channel, v.country, d.provider
        """
    }

    /// Upserts `day`'s rows: a rerun gives the same rows, and two runs at once serialise on the key.
    static func upsert(day: String) -> PostgresQuery {
        var query = select(day: day, appIDs: nil)
        query.sql =
            """
            INSERT INTO otp.daily_provider_reports (app_id, day, channel, country, provider, verifications, sent,
                delivered, failed, verified, delivery_latency_ms_p50, delivery_latency_ms_p95, cost)
            SELECT app_id, day::date, channel, country, provider, verifications, sent, delivered, failed, verified,
                p50, p95, cost
            FROM (
            """ + query.sql
                + """
                ) AS today
                ON CONFLICT (app_id, day, channel, country, provider) DO UPDATE SET
                    verifications = EXCLUDED.verifications, sent = EXCLUDED.sent, delivered = EXCLUDED.delivered,
                    failed = EXCLUDED.failed, verified = EXCLUDED.verified,
                    delivery_latency_ms_p50 = EXCLUDED.delivery_latency_ms_p50,
                    delivery_latency_ms_p95 = EXCLUDED.delivery_latency_ms_p95, cost = EXCLUDED.cost,
                    updated_at = now()
                RETURNING 1
                """
        return query
    }
}
