import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Messages to test numbers with a scripted outcome that were sent and wait for their receipt
/// (migration 0025's partial index finds them).
package struct PostgresSandboxMessages: SandboxMessages {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func awaitingReceipt(limit: Int) async throws -> (messages: [SentTestMessage], now: Date) {
        try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT d.provider_message_id, a.test_outcomes ->> d.recipient, d.sent_at, now()
                FROM otp.deliveries d JOIN otp.apps a ON a.id = d.app_id
                WHERE d.provider = \(TestOutcome.provider) AND d.state = 'sent' AND a.test_outcomes ? d.recipient
                    AND d.provider_message_id IS NOT NULL
                ORDER BY d.sent_at LIMIT \(limit)
                """, logger: logger)
            var messages: [SentTestMessage] = []
            var now = Date()
            for try await (messageID, outcome, sentAt, databaseNow) in rows.decode((String, String, Date, Date).self) {
                now = databaseNow
                guard let outcome = TestOutcome(outcome) else { continue }
                messages.append(SentTestMessage(providerMessageID: messageID, outcome: outcome, sentAt: sentAt))
            }
            return (messages, now)
        }
    }
}
