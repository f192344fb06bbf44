import OTPCore
import Testing

@Suite struct ConversionRoutingTests {
    typealias Figures = ConversionRouting.Figures

    @Test func theConfiguredOrderLeadsUntilItsFirstIsJudgedWorse() {
        let rules = ConversionRouting()
        #expect(rules.ranked(["alpha", "beta"], figures: [:]) == ["alpha", "beta"])
        // Nineteen sends, none verified: not judged yet.
        #expect(
            rules.ranked(["alpha", "beta"], figures: ["alpha": Figures(sent: 19, verified: 0)]) == ["alpha", "beta"])
        // Twenty: judged at 0, behind an untried provider (counted at 50 %).
        #expect(
            rules.ranked(["alpha", "beta"], figures: ["alpha": Figures(sent: 20, verified: 0)]) == ["beta", "alpha"])
        // Judged at 70 %: ahead of the untried one.
        #expect(
            rules.ranked(["alpha", "beta"], figures: ["alpha": Figures(sent: 20, verified: 14)]) == ["alpha", "beta"])
    }

    @Test func theBetterConversionLeadsAndTiesKeepTheConfiguredOrder() {
        let rules = ConversionRouting()
        let figures = [
            "alpha": Figures(sent: 100, verified: 60), "beta": Figures(sent: 40, verified: 32),
            "gamma": Figures(sent: 50, verified: 30),
        ]
        #expect(rules.ranked(["alpha", "beta", "gamma"], figures: figures) == ["beta", "alpha", "gamma"])
        #expect(rules.ranked(["gamma", "alpha"], figures: figures) == ["gamma", "alpha"])
    }

    @Test func aShareOfDeliveriesExploresAndEachDeliveryKeepsItsOrder() {
        var rules = ConversionRouting()
        let ranked = ["alpha", "beta", "gamma"]
        let orders = (1...10_000).map { rules.order(ranked, deliveryID: Int64($0)) }
        let explored = orders.filter { $0.first != "alpha" }
        #expect((800...1200).contains(explored.count), "\(explored.count) of 10000 explored")
        #expect(Set(explored.compactMap(\.first)) == ["beta", "gamma"])
        #expect(orders.allSatisfy { Set($0) == Set(ranked) && $0.count == 3 })
        // A retry asks again with the same delivery: the same order.
        #expect((1...100).allSatisfy { rules.order(ranked, deliveryID: $0) == rules.order(ranked, deliveryID: $0) })
        rules.explorationShare = 0
        #expect((1...1000).allSatisfy { rules.order(ranked, deliveryID: Int64($0)) == ranked })
    }
}
