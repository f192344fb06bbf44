import Foundation

/// What messages to a test number do, scripted (`+E164=CODE:OUTCOME`), so that an app, and this
/// project's tests, can see every path of the pipeline without paying a provider: the sandbox
/// answers the worker's try as a provider would, and sends the receipt a provider would. Retries,
/// fallback, events and status webhooks then run as for any number.
package enum TestOutcome: Sendable, Hashable {
    /// Accepted, and a `delivered` receipt at once.
    case delivered
    /// Accepted, and a `failed` receipt at once (the phone was never reached).
    case undelivered
    /// Accepted, and a `delivered` receipt `seconds` after it was sent.
    case delayed(seconds: Int)
    /// Every try fails as an outage would (503): retried on the retry policy, then the fallback.
    case providerDown
    /// WhatsApp refuses the number for good (it has no account): the fallback channel takes over.
    /// Other channels deliver it.
    case noWhatsApp
    /// A fixed line: SMS and WhatsApp refuse it for good, a call reaches it. With a fallback chain
    /// that ends in voice, the call is what delivers it.
    case landline

    /// How long a `delayed` receipt may take.
    package static let delays = 1...3600

    /// `delivered`, `undelivered`, `delayed:SECONDS`, `provider_down`, `no_whatsapp` or `landline`.
    package init?(_ text: String) {
        switch text {
        case "delivered": self = .delivered
        case "undelivered": self = .undelivered
        case "provider_down": self = .providerDown
        case "no_whatsapp": self = .noWhatsApp
        case "landline": self = .landline
        default:
            guard text.hasPrefix("delayed:"), let seconds = Int(text.dropFirst("delayed:".count)),
                Self.delays.contains(seconds)
            else { return nil }
            self = .delayed(seconds: seconds)
        }
    }

    package var text: String {
        switch self {
        case .delivered: "delivered"
        case .undelivered: "undelivered"
        case .delayed(let seconds): "delayed:\(seconds)"
        case .providerDown: "provider_down"
        case .noWhatsApp: "no_whatsapp"
        case .landline: "landline"
        }
    }

    /// The sandbox's answer to a try on `channel`, as the vendors' adapters classify theirs.
    package func answer(channel: MessageChannel, deliveryID: Int64) -> ProviderResult {
        switch self {
        case .providerDown:
            ProviderResult(
                outcome: .retryable, httpStatus: 503, errorCode: "sandbox_provider_down",
                errorMessage: "test number: the provider is down")
        case .noWhatsApp where channel == .whatsapp:
            ProviderResult(
                outcome: .permanent, httpStatus: 400, errorCode: "sandbox_no_whatsapp",
                errorMessage: "test number: not a WhatsApp user")
        case .landline where channel != .voice:
            ProviderResult(
                outcome: .permanent, httpStatus: 400, errorCode: "sandbox_landline",
                errorMessage: "test number: a fixed line takes no messages")
        case .delivered, .undelivered, .delayed, .noWhatsApp, .landline:
            .accepted(messageID: "test-\(deliveryID)")
        }
    }

    /// The receipt a message the sandbox accepted gets, and how long after it was sent.
    package var receipt: (outcome: DeliveryReceipt.Outcome, afterSeconds: Int)? {
        switch self {
        case .delivered, .noWhatsApp, .landline: (.delivered, 0)
        case .undelivered: (.failed, 0)
        case .delayed(let seconds): (.delivered, seconds)
        case .providerDown: nil
        }
    }
}

/// A message to a test number with a scripted outcome, sent and waiting for its receipt.
package struct SentTestMessage: Sendable, Equatable {
    package var providerMessageID: String
    package var outcome: TestOutcome
    package var sentAt: Date

    package init(providerMessageID: String, outcome: TestOutcome, sentAt: Date) {
        self.providerMessageID = providerMessageID
        self.outcome = outcome
        self.sentAt = sentAt
    }

    /// Its receipt when it is due by `now`.
    package func receiptDue(at now: Date) -> DeliveryReceipt? {
        guard let (outcome, after) = outcome.receipt, sentAt.addingTimeInterval(Double(after)) <= now else {
            return nil
        }
        return DeliveryReceipt(
            provider: TestOutcome.provider, providerMessageID: providerMessageID, outcome: outcome,
            errorCode: outcome == .failed ? "sandbox_undelivered" : nil)
    }
}

/// Where the sandbox finds the messages that wait for a receipt.
package protocol SandboxMessages: Sendable {
    /// Up to `limit` of them, oldest first, with the database's clock.
    func awaitingReceipt(limit: Int) async throws -> (messages: [SentTestMessage], now: Date)
}

extension TestOutcome {
    /// The provider name messages to test numbers are sent by (API.md, "Test numbers").
    package static let provider = "test"
}
