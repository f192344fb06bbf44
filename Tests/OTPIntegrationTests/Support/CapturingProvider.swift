import OTPCore
import Synchronization

/// A provider that keeps what it is given, for tests that need to read a code the way a phone would.
final class CapturingProvider: MessageProvider {
    let name = "capture"
    private let sent = Mutex<[OutboundMessage]>([])

    var messages: [OutboundMessage] { sent.withLock { $0 } }

    func send(_ message: OutboundMessage) async -> ProviderResult {
        sent.withLock { $0.append(message) }
        return .accepted(messageID: "capture-\(message.deliveryID)")
    }
}
