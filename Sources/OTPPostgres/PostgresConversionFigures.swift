import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Routing's figures: per channel, destination country and provider, the messages providers
/// accepted in the window (through `delivery_attempts`' index on `at`), and how many of their
/// verifications were verified. Sends to test numbers are not counted.
package struct PostgresConversionFigures: ConversionFiguresSource {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func figures(window: Duration, grace: Duration) async throws
        -> [ConversionRouting.Scope: [String: ConversionRouting.Figures]]
    {
        let windowSeconds = Double(window.components.seconds)
        let graceSeconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT d.channel, v.country, a.provider, count(*)::int,
                    (count(*) FILTER (WHERE v.status = \(VerificationStatus.verified.rawValue)))::int
                FROM otp.delivery_attempts a
                JOIN otp.deliveries d ON d.id = a.delivery_id
                JOIN otp.verifications v ON v.id = a.verification_id
                WHERE a.outcome = 'accepted' AND a.provider <> \(TestOutcome.provider)
                    AND a.at >= now() - make_interval(secs => \(windowSeconds))
                    AND a.at <= now() - make_interval(secs => \(graceSeconds))
                GROUP BY 1, 2, 3
                """, logger: logger)
            var figures: [ConversionRouting.Scope: [String: ConversionRouting.Figures]] = [:]
            for try await (channel, country, provider, sent, verified) in rows.decode(
                (String, String, String, Int, Int).self)
            {
                guard let channel = MessageChannel(rawValue: channel) else { continue }
                figures[ConversionRouting.Scope(channel: channel, country: country), default: [:]][provider] =
                    ConversionRouting.Figures(sent: sent, verified: verified)
            }
            return figures
        }
    }
}
