import Logging
import OTPCore
import PostgresNIO

/// Records delivery receipts: `sent` becomes `delivered` or `failed`, with an audit event. A late
/// "failed" never overrides "delivered", and a repeated receipt changes nothing. A receipt that
/// comes before the worker recorded its message (no delivery has that message id yet) is held
/// (migration 0026) and applied by `applyHeld` once the delivery is `sent`.
package struct PostgresReceiptStore: DeliveryReceiptStore, HeldReceipts {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func record(_ receipt: DeliveryReceipt) async throws -> Bool {
        return try await DatabaseFaults.mapping {
            let state = receipt.outcome.rawValue
            let event: EventKind = receipt.outcome == .delivered ? .deliveryDelivered : .deliveryFailed
            let rows = try await client.query(
                """
                WITH d AS (
                    UPDATE otp.deliveries SET state = \(state), updated_at = now(),
                        last_error = coalesce(\(receipt.errorCode)::text, last_error)
                    WHERE provider = \(receipt.provider) AND provider_message_id = \(receipt.providerMessageID)
                        AND state = 'sent'
                    RETURNING id, app_id, verification_id
                ), e AS (
                    INSERT INTO otp.events (event, app_id, verification_id, details)
                    SELECT \(event.rawValue), app_id, verification_id, jsonb_strip_nulls(jsonb_build_object(
                        'delivery_id', id, 'provider', \(receipt.provider)::text,
                        'error_code', \(receipt.errorCode)::text))
                    FROM d
                ), held AS (
                    INSERT INTO otp.held_receipts (provider, provider_message_id, outcome, error_code)
                    SELECT \(receipt.provider), \(receipt.providerMessageID), \(state), \(receipt.errorCode)
                    WHERE NOT EXISTS (SELECT 1 FROM d) AND NOT EXISTS (
                        SELECT 1 FROM otp.deliveries x
                        WHERE x.provider = \(receipt.provider) AND x.provider_message_id = \(receipt.providerMessageID))
                    ON CONFLICT DO NOTHING
                )
                SELECT id FROM d
                """, logger: logger)
            return try await rows.collect().count > 0
        }
    }

    package func applyHeld() async throws -> Int {
        try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                WITH ready AS (
                    -- Each held receipt looks its delivery up by the message index (the fence,
                    -- OFFSET 0, keeps the lookup per receipt): joined as a whole, the planner
                    -- may scan every delivery each pass, as it did with stale statistics.
                    SELECT h.provider, h.provider_message_id, h.outcome, d.id AS delivery_id
                    FROM otp.held_receipts h
                    CROSS JOIN LATERAL (
                        SELECT x.id FROM otp.deliveries x
                        WHERE x.provider = h.provider AND x.provider_message_id = h.provider_message_id
                            AND x.state = 'sent'
                        OFFSET 0
                    ) d
                ), due AS (
                    DELETE FROM otp.held_receipts h USING ready r
                    WHERE h.provider = r.provider AND h.provider_message_id = r.provider_message_id
                        AND h.outcome = r.outcome
                    RETURNING h.provider, h.outcome, h.error_code, r.delivery_id
                ), chosen AS (
                    -- Both kinds held for one message: delivered wins, as it does when they come late.
                    SELECT DISTINCT ON (delivery_id) * FROM due ORDER BY delivery_id, outcome = 'delivered' DESC
                ), moved AS (
                    UPDATE otp.deliveries d SET state = c.outcome, updated_at = now(),
                        last_error = coalesce(c.error_code, d.last_error)
                    FROM chosen c WHERE d.id = c.delivery_id AND d.state = 'sent'
                    RETURNING d.id, d.app_id, d.verification_id, c.outcome, c.provider, c.error_code
                ), e AS (
                    INSERT INTO otp.events (event, app_id, verification_id, details)
                    SELECT CASE m.outcome WHEN 'delivered' THEN \(EventKind.deliveryDelivered.rawValue)
                            ELSE \(EventKind.deliveryFailed.rawValue) END,
                        m.app_id, m.verification_id, jsonb_strip_nulls(jsonb_build_object(
                            'delivery_id', m.id, 'provider', m.provider, 'error_code', m.error_code))
                    FROM moved m ORDER BY m.id
                ), stale AS (
                    DELETE FROM otp.held_receipts WHERE received_at < now() - interval '10 minutes'
                )
                SELECT count(*)::bigint FROM moved
                """, logger: logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}
