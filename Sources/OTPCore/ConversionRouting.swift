import Foundation

/// How the providers of a channel are ordered per destination country by how often their codes
/// are verified there (`OTP_ROUTING=conversion`).
///
/// Conversion is what an operator pays for: a provider whose messages arrive late, or not at all, in
/// one country shows it there first as codes nobody types in. So per channel and country, the
/// provider whose sends of the recent window were verified most leads. The configured order is the
/// prior: it decides between providers with equal figures, and a provider not yet judged (fewer
/// than `minimumSends` sends there) counts as converting `untriedConversion`, so the configured first
/// leads until it has been judged worse. A share of deliveries go first to another provider, so the
/// figures of every provider stay current and one that got better wins its traffic back.
package struct ConversionRouting: Sendable, Equatable {
    /// Sends a provider needs in a country (in the window) before its conversion there counts.
    package var minimumSends = 20
    /// The conversion an untried provider is given: a judged provider converting worse is tried after it.
    package var untriedConversion = 0.5
    /// The share of deliveries (0...1) that go first to a provider other than the best.
    package var explorationShare = 0.1
    /// How far back sends are counted.
    package var window: Duration = .seconds(6 * 3600)
    /// Sends younger than this are not counted yet: their codes may still be typed in.
    package var verifyGrace: Duration = .seconds(120)

    package init() {}

    /// A channel and destination country (ISO 3166).
    package struct Scope: Sendable, Hashable {
        package var channel: MessageChannel
        package var country: String

        package init(channel: MessageChannel, country: String) {
            self.channel = channel
            self.country = country
        }
    }

    /// One provider's sends in a scope and how many of their verifications were verified.
    package struct Figures: Sendable, Equatable {
        package var sent: Int
        package var verified: Int

        package init(sent: Int, verified: Int) {
            self.sent = sent
            self.verified = verified
        }
    }

    /// The providers of `configured`, best first, by their figures in one scope.
    package func ranked(_ configured: [String], figures: [String: Figures]) -> [String] {
        configured.enumerated().sorted { first, second in
            let (a, b) = (conversion(figures[first.element]), conversion(figures[second.element]))
            return a != b ? a > b : first.offset < second.offset
        }.map(\.element)
    }

    /// What a provider's figures count as: its conversion once judged, else the untried one.
    package func conversion(_ figures: Figures?) -> Double {
        guard let figures, figures.sent >= minimumSends, figures.sent > 0 else { return untriedConversion }
        return Double(figures.verified) / Double(figures.sent)
    }

    /// The order one delivery tries: `ranked`, or for about `explorationShare` of deliveries another
    /// provider first. Chosen by the delivery's id, so that its retries agree with its first try.
    package func order(_ ranked: [String], deliveryID: Int64) -> [String] {
        guard ranked.count > 1, explorationShare > 0 else { return ranked }
        // Fibonacci hashing spreads consecutive ids evenly over the slots.
        let hash = UInt64(bitPattern: deliveryID) &* 0x9E37_79B9_7F4A_7C15
        guard Double((hash >> 32) % 10_000) < explorationShare * 10_000 else { return ranked }
        var order = ranked
        let explored = order.remove(at: 1 + Int((hash >> 16) % UInt64(ranked.count - 1)))
        order.insert(explored, at: 0)
        return order
    }
}

/// Where routing reads its figures: per scope, per provider, over the window.
package protocol ConversionFiguresSource: Sendable {
    func figures(window: Duration, grace: Duration) async throws
        -> [ConversionRouting.Scope: [String: ConversionRouting.Figures]]
}
