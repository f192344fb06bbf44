import Foundation
import Logging
import OTPCore
import ServiceLifecycle

/// The receipts no vendor call brings at the right time, every `interval`:
/// - the receipts of test numbers with a scripted outcome, as a provider would send them: the sent
///   messages whose receipt is due are recorded through the same store as the vendors' receipts
///   (so the same events and status webhooks follow);
/// - the vendors' receipts that came before the worker recorded their message (`HeldReceipts`).
/// Safe on many workers: a receipt moves only a delivery still `sent`, once.
package struct ReceiptsPass: Sendable {
    let sandbox: any SandboxMessages
    let receipts: any DeliveryReceiptStore & HeldReceipts
    let interval: Duration
    let logger: Logger

    package init(
        sandbox: any SandboxMessages, receipts: any DeliveryReceiptStore & HeldReceipts,
        interval: Duration = .seconds(1), logger: Logger
    ) {
        self.sandbox = sandbox
        self.receipts = receipts
        self.interval = interval
        self.logger = logger
    }

    /// Until graceful shutdown.
    func run() async {
        try? await cancelWhenGracefulShutdown {
            while true {
                await applyDue()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Records the receipts due now; a database fault waits for the next pass.
    func applyDue() async {
        do {
            _ = try await receipts.applyHeld()
            let (sent, now) = try await sandbox.awaitingReceipt(limit: 500)
            for receipt in sent.compactMap({ $0.receiptDue(at: now) }) {
                _ = try await receipts.record(receipt)
            }
        } catch {
            logger.warning("held and test numbers' receipts wait for the database", metadata: ["error": "\(error)"])
        }
    }
}
