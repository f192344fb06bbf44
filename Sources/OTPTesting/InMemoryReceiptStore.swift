import OTPCore
import Synchronization

/// Delivery receipts in memory: a receipt moves on a message id the test marked as sent.
package final class InMemoryReceiptStore: DeliveryReceiptStore {
    private let state = Mutex<(sent: Set<String>, recorded: [DeliveryReceipt])>(([], []))

    package init() {}

    package func markSent(provider: String, messageID: String) {
        state.withLock { _ = $0.sent.insert("\(provider)/\(messageID)") }
    }

    package var recorded: [DeliveryReceipt] { state.withLock { $0.recorded } }

    package func record(_ receipt: DeliveryReceipt) async throws -> Bool {
        state.withLock { state in
            guard state.sent.remove("\(receipt.provider)/\(receipt.providerMessageID)") != nil else { return false }
            state.recorded.append(receipt)
            return true
        }
    }
}
