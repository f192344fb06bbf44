/// A vendor's word on a message it accepted earlier: it reached the phone, or it never will.
public struct DeliveryReceipt: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        case delivered
        case failed
    }

    public var provider: String
    public var providerMessageID: String
    public var outcome: Outcome
    /// The vendor's error code when the message failed.
    public var errorCode: String?

    public init(provider: String, providerMessageID: String, outcome: Outcome, errorCode: String? = nil) {
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.outcome = outcome
        self.errorCode = errorCode
    }
}

/// Where receipts are recorded.
public protocol DeliveryReceiptStore: Sendable {
    /// Moves the delivery the receipt names on; false when no sent delivery has that message id.
    func record(_ receipt: DeliveryReceipt) async throws -> Bool
}
