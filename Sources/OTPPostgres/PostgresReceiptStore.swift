import Logging
import OTPCore
import PostgresNIO

/// Records delivery receipts: `sent` becomes `delivered` or `failed`, with an audit event. A late
/// "failed" never overrides "delivered", and a repeated receipt changes nothing.
package struct PostgresReceiptStore: DeliveryReceiptStore {
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
                )
                SELECT id FROM d
                """, logger: logger)
            return try await rows.collect().count > 0
        }
    }
}
