import Foundation

/// What the operator pays per message, by channel and destination country: the price of an
/// attempt whose provider reports none, and the estimate a send charges against its app's daily
/// spend cap. One currency for the whole card.
///
/// Written `CHANNEL:COUNTRY=PRICE`, separated by spaces or commas, `*` for every other country:
/// `sms:BR=0.0225 sms:*=0.05 whatsapp:*=0.008` (`OTP_RATE_CARD`, currency `OTP_RATE_CARD_CURRENCY`).
package struct RateCard: Sendable, Equatable {
    package var currency: String
    private var prices: [MessageChannel: [String: Decimal]]

    package static let none = RateCard(currency: "USD")

    package init(currency: String) {
        self.currency = currency
        self.prices = [:]
    }

    package init(_ text: String, currency: String = "USD") throws(RateCardProblem) {
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw RateCardProblem("the rate card's currency is an ISO 4217 code such as USD")
        }
        self.init(currency: currency)
        for entry in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }) {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let scope = parts.first?.split(separator: ":").map(String.init) ?? []
            guard parts.count == 2, scope.count == 2, let channel = MessageChannel(rawValue: scope[0]),
                scope[1] == "*" || (scope[1].count == 2 && scope[1].allSatisfy { $0.isASCII && $0.isUppercase }),
                let price = Decimal(string: parts[1], locale: Locale(identifier: "en_US_POSIX")), price >= 0
            else {
                throw RateCardProblem(
                    "rate card entries are CHANNEL:COUNTRY=PRICE (e.g. sms:BR=0.0225, sms:*=0.05); not \(entry)")
            }
            prices[channel, default: [:]][scope[1]] = price
        }
    }

    /// The price of one message on `channel` to `country`, or nil when the card has none.
    package func price(channel: MessageChannel, country: String) -> Decimal? {
        prices[channel]?[country] ?? prices[channel]?["*"]
    }
}

package struct RateCardProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// An app's spend cap applied to one send: the estimate (the rate card's price) charged against the
/// app's estimated spend of the UTC day, refused past `limit` (`429 SPEND_LIMIT_REACHED`).
package struct SpendCharge: Sendable, Equatable {
    package var limit: Decimal
    package var estimate: Decimal

    package init(limit: Decimal, estimate: Decimal) {
        self.limit = limit
        self.estimate = estimate
    }

    /// The charge of a send, or nil when the app has no cap or the card no price for it.
    package static func of(app: App, channel: MessageChannel, country: String, rateCard: RateCard, test: Bool)
        -> SpendCharge?
    {
        guard !test, let limit = app.policy.spendLimitPerDay,
            let estimate = rateCard.price(channel: channel, country: country)
        else { return nil }
        return SpendCharge(limit: limit, estimate: estimate)
    }

    /// Seconds until the next midnight UTC, when the day's spend starts again.
    package static func secondsUntilMidnightUTC(from now: Date) -> Int {
        let day = 86_400.0
        let seconds = now.timeIntervalSince1970
        return max(1, Int((seconds / day).rounded(.down) * day + day - seconds))
    }
}
