import Foundation

/// One message for a provider to send.
package struct OutboundMessage: Sendable {
    package var deliveryID: Int64
    package var verificationID: String
    package var channel: MessageChannel
    package var recipient: String
    package var sender: String?
    package var code: String
    package var body: String
    /// Stable across retries of one delivery, so a vendor that deduplicates can drop a repeat.
    package var idempotencyToken: String
    /// The app's approved WhatsApp template for the message's locale, when it has one.
    package var whatsAppTemplate: WhatsAppTemplate?
    /// What a call says, for the voice channel.
    package var voiceScript: VoiceScript?

    package init(
        deliveryID: Int64, verificationID: String, channel: MessageChannel, recipient: String, sender: String?,
        code: String,
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
package struct ProviderResult: Sendable, Equatable {
    package enum Outcome: String, Sendable, Equatable, CaseIterable {
        /// The vendor took the message.
        case accepted
        /// Worth trying again later: connect errors, timeouts, 5xx, 429.
        case retryable
        /// Will not change on retry: invalid number, unauthorised sender, other 4xx.
        case permanent
    }

    package var outcome: Outcome
    package var httpStatus: Int?
    package var providerMessageID: String?
    package var errorCode: String?
    package var errorMessage: String?
    /// The vendor's `Retry-After`, when it sent one.
    package var retryAfterSeconds: Int?
    /// What the vendor says the message cost, when it says (Twilio's `price` and `price_unit`).
    package var price: Decimal?
    package var priceCurrency: String?

    package init(
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

    package static func accepted(messageID: String?, httpStatus: Int? = nil) -> Self {
        .init(outcome: .accepted, httpStatus: httpStatus, providerMessageID: messageID)
    }
}

/// A vendor that can carry a message. Implementations never throw: every failure is classified.
package protocol MessageProvider: Sendable {
    var name: String { get }
    func send(_ message: OutboundMessage) async -> ProviderResult
}
