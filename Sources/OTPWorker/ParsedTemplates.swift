import OTPTemplates
import Synchronization

/// Message texts parsed once and kept: deliveries of one app mostly share a handful of texts, and
/// parsing one cost more than the rest of preparing its message.
final class ParsedTemplates: Sendable {
    /// Beyond this many texts the cache starts again (they are cheap to parse again, not to hoard).
    static let capacity = 512

    private let parsed = Mutex<[String: MessageTemplate]>([:])

    /// The parsed template, or nil when the text no longer parses.
    func template(_ text: String) -> MessageTemplate? {
        if let template = parsed.withLock({ $0[text] }) { return template }
        guard let template = try? MessageTemplate(queued: text) else { return nil }
        parsed.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
            cache[text] = template
        }
        return template
    }
}
