import OTPCore
import Synchronization

/// A provider that keeps what it is given, for tests that need to read a code the way a phone would.
/// `answer` decides each call's result (default: accept); only accepted messages count as sent.
package final class CapturingProvider: MessageProvider {
    package let name: String
    private let answer: @Sendable (OutboundMessage) -> ProviderResult
    private let sent = Mutex<[OutboundMessage]>([])
    private let calls = Mutex<[OutboundMessage]>([])

    package init(
        name: String = "capture",
        answer: @escaping @Sendable (OutboundMessage) -> ProviderResult = { .accepted(messageID: "m-\($0.deliveryID)") }
    ) {
        self.name = name
        self.answer = answer
    }

    package var messages: [OutboundMessage] { sent.withLock { $0 } }
    package var attempts: [OutboundMessage] { calls.withLock { $0 } }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        calls.withLock { $0.append(message) }
        let result = answer(message)
        if result.outcome == .accepted { sent.withLock { $0.append(message) } }
        return result
    }
}
