import Foundation

/// One message for a provider to send.
public struct OutboundMessage: Sendable {
    public var deliveryID: Int64
    public var verificationID: String
    public var channel: Channel
    public var recipient: String
    public var sender: String?
    public var code: String
    public var body: String
    /// Stable across retries of one delivery, so a vendor that deduplicates can drop a repeat.
    public var idempotencyToken: String
    /// The app's approved WhatsApp template for the message's locale, when it has one.
    public var whatsAppTemplate: WhatsAppTemplate?

    public init(
        deliveryID: Int64, verificationID: String, channel: Channel, recipient: String, sender: String?, code: String,
        body: String, idempotencyToken: String, whatsAppTemplate: WhatsAppTemplate? = nil
    ) {
        self.whatsAppTemplate = whatsAppTemplate
        self.deliveryID = deliveryID
        self.verificationID = verificationID
        self.channel = channel
        self.recipient = recipient
        self.sender = sender
        self.code = code
        self.body = body
        self.idempotencyToken = idempotencyToken
    }
}

/// What a provider said about one send attempt.
public struct ProviderResult: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// The vendor took the message.
        case accepted
        /// Worth trying again later: connect errors, timeouts, 5xx, 429.
        case retryable
        /// Will not change on retry: invalid number, unauthorised sender, other 4xx.
        case permanent
    }

    public var outcome: Outcome
    public var httpStatus: Int?
    public var providerMessageID: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// The vendor's `Retry-After`, when it sent one.
    public var retryAfterSeconds: Int?

    public init(
        outcome: Outcome, httpStatus: Int? = nil, providerMessageID: String? = nil, errorCode: String? = nil,
        errorMessage: String? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.providerMessageID = providerMessageID
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static func accepted(messageID: String?, httpStatus: Int? = nil) -> Self {
        .init(outcome: .accepted, httpStatus: httpStatus, providerMessageID: messageID)
    }
}

/// A vendor that can carry a message. Implementations never throw: every failure is classified.
public protocol MessageProvider: Sendable {
    var name: String { get }
    func send(_ message: OutboundMessage) async -> ProviderResult
}
