import Foundation
import Logging
import OTPCore
import ServiceLifecycle

/// The receipts of test numbers with a scripted outcome, as a provider would send them: every
/// `interval`, the sent messages whose receipt is due are recorded through the same store as the
/// vendors' receipts (so the same events and status webhooks follow). Safe on many workers: a
/// receipt moves only a delivery still `sent`, once.
package struct SandboxReceipts: Sendable {
    let messages: any SandboxMessages
    let receipts: any DeliveryReceiptStore
    let interval: Duration
    let logger: Logger

    package init(
        messages: any SandboxMessages, receipts: any DeliveryReceiptStore, interval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.messages = messages
        self.receipts = receipts
        self.interval = interval
        self.logger = logger
    }

    /// Until graceful shutdown.
    func run() async {
        try? await cancelWhenGracefulShutdown {
            while true {
                await recordDue()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Records the receipts due now; a database fault waits for the next pass.
    func recordDue() async {
        do {
            let (sent, now) = try await messages.awaitingReceipt(limit: 500)
            for receipt in sent.compactMap({ $0.receiptDue(at: now) }) {
                _ = try await receipts.record(receipt)
            }
        } catch {
            logger.warning("test numbers' receipts wait for the database", metadata: ["error": "\(error)"])
        }
    }
}
