import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Completes or ends the sends `otp.request_verification` queued, for the worker.
package struct PostgresRequestedSends: RequestedSendStore {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Thrown inside the transaction to roll it back when the delivery or its verification moved on.
    private struct NotHeld: Error {}

    package func complete(_ prepared: PreparedSend, workerID: String) async throws -> Bool {
        do {
            // NotHeld leaves the transaction wrapped and DatabaseFaults unwraps it: caught out here.
            try await DatabaseFaults.mapping {
                try await client.withTransaction(logger: logger) { connection in
                    let request = prepared.request
                    let message = prepared.message
                    let rows = try await connection.query(
                        """
                        WITH v AS (
                            UPDATE otp.verifications SET code_digest = \(prepared.codeDigest),
                                sealed_code = \(prepared.keepsSealedCode ? prepared.sealedCode : nil),
                                country = \(prepared.country), code_length = \(prepared.codeLength),
                                test = \(prepared.test), updated_at = now()
                            WHERE id = \(request.verificationID) AND status = 'pending' AND code_digest IS NULL
                            RETURNING id
                        )
                        UPDATE otp.deliveries d SET sealed_code = \(prepared.sealedCode),
                            message_template = \(message.template), template_id = \(message.templateID),
                            template_version = \(message.templateVersion), locale = \(message.locale),
                            whatsapp_template = \(message.whatsAppTemplate?.name),
                            whatsapp_language = \(message.whatsAppTemplate?.language), prepared = true,
                            updated_at = now()
                        FROM v
                        WHERE d.id = \(request.deliveryID) AND d.verification_id = v.id AND d.state = 'sending'
                            AND d.locked_by = \(workerID)
                        RETURNING d.id
                        """, logger: logger)
                    if try await rows.collect().isEmpty { throw NotHeld() }
                    // After the verification's row lock, as a resend takes them; a refusal rolls the
                    // code back and the worker ends the send with the rule's name.
                    try await PostgresRateLimiter.charge(prepared.charges, on: connection, logger: logger)
                }
            }
            return true
        } catch is NotHeld {
            return false
        }
    }

    package func cancel(_ request: RequestedSend, reason: String) async throws {
        _ = try await DatabaseFaults.mapping {
            try await client.query(
                """
                WITH v AS (
                    UPDATE otp.verifications SET status = 'canceled', code_digest = NULL, sealed_code = NULL,
                        updated_at = now()
                    WHERE id = \(request.verificationID) AND status = 'pending'
                    RETURNING id, app_id
                ), d AS (
                    UPDATE otp.deliveries SET state = 'canceled', sealed_code = NULL, last_error = \(reason),
                        locked_until = NULL, locked_by = NULL, finished_at = now(), updated_at = now()
                    WHERE verification_id = \(request.verificationID) AND state IN ('queued', 'sending')
                )
                INSERT INTO otp.events (event, app_id, verification_id, actor, details)
                SELECT \(EventKind.refused.rawValue), app_id, id, 'otp work',
                    jsonb_build_object('reason', \(reason)::text, 'delivery_id', \(request.deliveryID)::bigint)
                FROM v
                """, logger: logger)
        }
    }
}
