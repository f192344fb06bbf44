import OTPCore

/// The ordered providers of each channel. A delivery's first try uses the first provider; after a
/// failure that may pass, the next try moves to the next provider in the list, so one vendor being
/// down delays a message by one backoff instead of until the vendor is back. Providers whose
/// circuit is open are passed over while another is available. With `routes`, the list is ordered
/// per destination country by conversion (`ConversionRouting`) instead of as configured.
package struct ProviderChains: Sendable {
    private let providers: [MessageChannel: [any MessageProvider]]
    package let breaker: CircuitBreaker
    package var routes: ConversionRoutes?

    package init(
        _ providers: [MessageChannel: [any MessageProvider]], breaker: CircuitBreaker = CircuitBreaker(),
        routes: ConversionRoutes? = nil
    ) {
        self.providers = providers.filter { !$0.value.isEmpty }
        self.breaker = breaker
        self.routes = routes
    }

    package func provider(
        for channel: MessageChannel, attempt: Int, country: String = "", deliveryID: Int64 = 0
    ) -> (any MessageProvider)? {
        guard var list = providers[channel], !list.isEmpty else { return nil }
        if let routes, list.count > 1 {
            let configured = list
            list = routes.order(configured.map(\.name), channel: channel, country: country, deliveryID: deliveryID)
                .compactMap { name in configured.first { $0.name == name } }
        }
        let start = (max(1, attempt) - 1) % list.count
        let rotation = list[start...] + list[..<start]
        return rotation.first { breaker.isAvailable($0.name) } ?? rotation.first
    }
}
