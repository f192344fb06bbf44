import OTPCore

/// The ordered providers of each channel. A delivery's first try uses the first provider; after a
/// failure that may pass, the next try moves to the next provider in the list, so one vendor being
/// down delays a message by one backoff instead of until the vendor is back.
public struct ProviderRoutes: Sendable {
    private let providers: [Channel: [any MessageProvider]]

    public init(_ providers: [Channel: [any MessageProvider]]) {
        self.providers = providers.filter { !$0.value.isEmpty }
    }

    public func provider(for channel: Channel, attempt: Int) -> (any MessageProvider)? {
        guard let list = providers[channel], !list.isEmpty else { return nil }
        return list[(max(1, attempt) - 1) % list.count]
    }
}
