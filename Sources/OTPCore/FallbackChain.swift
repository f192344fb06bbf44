/// Where a message goes after it failed for good on one channel: an app's fallback channels, in
/// order (`whatsapp,sms,voice`).
///
/// A message that failed on a channel of the chain moves to the channels after it, so a send asked
/// for on SMS in the chain above goes on to voice, not back to WhatsApp; one that failed on a channel
/// outside the chain starts at the chain's first. Each step moves forward, so a message never comes
/// back to a channel it failed on.
package enum FallbackChain {
    /// The channels to try next, best first (the first with a provider is the one to use).
    package static func candidates(after channel: MessageChannel, in chain: [MessageChannel]) -> [MessageChannel] {
        guard let position = chain.firstIndex(of: channel) else { return chain }
        return Array(chain[chain.index(after: position)...])
    }
}
