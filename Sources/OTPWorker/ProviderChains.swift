import OTPCore

/// The ordered providers of each channel. A delivery's first try uses the first provider; after a
/// failure that may pass, the next try moves to the next provider in the list, so one vendor being
/// down delays a message by one backoff instead of until the vendor is back. Providers whose
/// circuit is open are passed over while another is available.
package struct ProviderChains: Sendable {
    private let providers: [MessageChannel: [any MessageProvider]]
    package let breaker: CircuitBreaker

    package init(_ providers: [MessageChannel: [any MessageProvider]], breaker: CircuitBreaker = CircuitBreaker()) {
        self.providers = providers.filter { !$0.value.isEmpty }
        self.breaker = breaker
    }

    package func provider(for channel: MessageChannel, attempt: Int) -> (any MessageProvider)? {
        guard let list = providers[channel], !list.isEmpty else { return nil }
        let start = (max(1, attempt) - 1) % list.count
        let rotation = list[start...] + list[..<start]
        return rotation.first { breaker.isAvailable($0.name) } ?? rotation.first
    }
}
