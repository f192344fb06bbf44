/// A vendor's word on a message it accepted earlier: it reached the phone, or it never will.
package struct DeliveryReceipt: Sendable, Equatable {
    package enum Outcome: String, Sendable, Equatable {
        case delivered
        case failed
    }

    package var provider: String
    package var providerMessageID: String
    package var outcome: Outcome
    /// The vendor's error code when the message failed.
    package var errorCode: String?

    package init(provider: String, providerMessageID: String, outcome: Outcome, errorCode: String? = nil) {
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.outcome = outcome
        self.errorCode = errorCode
    }
}

/// Where receipts are recorded.
package protocol DeliveryReceiptStore: Sendable {
    /// Moves the delivery the receipt names on; false when no sent delivery has that message id.
    /// A store that can hold a receipt that came before its message's outcome was recorded
    /// (`HeldReceipts`) keeps it for later.
    func record(_ receipt: DeliveryReceipt) async throws -> Bool
}

/// Receipts held because they arrived before the worker recorded their message as sent.
package protocol HeldReceipts: Sendable {
    /// Applies the held receipts whose delivery is now `sent`, drops the stale ones; returns how
    /// many moved a delivery.
    func applyHeld() async throws -> Int
}
