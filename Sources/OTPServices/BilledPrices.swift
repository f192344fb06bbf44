import AsyncHTTPClient
import Foundation
import Logging
import OTPPostgres
import OTPProviders
import PostgresNIO

/// `otp prices`: Twilio prices a message only once it is sent, so the price reaches the attempt
/// later, from the message resource. Each run looks up the accepted Twilio attempts of the last two
/// days without Twilio's price and records what it billed (a rate card's estimate is replaced).
/// Idempotent and safe on two hosts: a price looked up twice is the same price.
package struct BilledPrices: Sendable {
    let prices: PostgresPrices
    let twilio: TwilioProvider
    let logger: Logger

    package init(prices: PostgresPrices, twilio: TwilioProvider, logger: Logger) {
        self.prices = prices
        self.twilio = twilio
        self.logger = logger
    }

    /// Twilio's, as the worker's settings configure it; nil when Twilio is not configured.
    package init?(settings: Settings, httpClient: HTTPClient, client: PostgresClient, logger: Logger) throws {
        guard settings.value("TWILIO_ACCOUNT_SID") != nil,
            let twilio = try ProviderSetup(settings: settings, httpClient: httpClient).provider(named: "twilio")
                as? TwilioProvider
        else { return nil }
        self.init(prices: PostgresPrices(client: client, logger: logger), twilio: twilio, logger: logger)
    }

    package struct Report: Encodable, Sendable {
        package var looked = 0
        package var priced = 0

        package init() {}
    }

    /// Looks up at most `limit` attempts, eight at a time.
    package func run(limit: Int) async throws -> Report {
        let unpriced = try await prices.unpriced(provider: twilio.name, limit: limit)
        var report = Report()
        report.looked = unpriced.count
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var next = unpriced.makeIterator()
            func lookUp(_ attempt: (attemptID: Int64, messageID: String)) {
                group.addTask {
                    guard let billed = await twilio.billedPrice(messageSID: attempt.messageID) else { return false }
                    try await prices.record(
                        attemptID: attempt.attemptID, price: billed.price, currency: billed.currency)
                    return true
                }
            }
            for _ in 0..<8 { if let attempt = next.next() { lookUp(attempt) } }
            while let priced = try await group.next() {
                if priced { report.priced += 1 }
                if let attempt = next.next() { lookUp(attempt) }
            }
        }
        return report
    }
}
