import Foundation
import Logging
import OTPCore
import PostgresNIO

/// The prices a provider tells after the send (Twilio fills a message's `price` once it is sent):
/// the accepted attempts still without the provider's price, and the price once it is known.
package struct PostgresPrices: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Accepted attempts of `provider` from the last two days (older than a minute: the provider
    /// needs that long to price them) whose price is not the provider's yet, oldest first.
    package func unpriced(provider: String, limit: Int) async throws -> [(attemptID: Int64, messageID: String)] {
        try await DatabaseFaults.mapping {
            var found: [(Int64, String)] = []
            let rows = try await client.query(
                """
                SELECT id, provider_message_id FROM otp.delivery_attempts
                WHERE provider = \(provider) AND outcome = 'accepted' AND provider_message_id IS NOT NULL
                    AND price_source IS DISTINCT FROM 'provider'
                    AND at > now() - interval '2 days' AND at < now() - interval '1 minute'
                ORDER BY at LIMIT \(limit)
                """, logger: logger)
            for try await row in rows.decode((Int64, String).self) { found.append(row) }
            return found
        }
    }

    /// Records what the provider billed for an attempt (the same value on a rerun).
    package func record(attemptID: Int64, price: Decimal, currency: String) async throws {
        try await DatabaseFaults.mapping {
            try await client.query(
                """
                UPDATE otp.delivery_attempts SET price = \("\(price)")::numeric, price_currency = \(currency),
                    price_source = 'provider'
                WHERE id = \(attemptID) AND at > now() - interval '3 days'
                """, logger: logger)
        }
    }
}
