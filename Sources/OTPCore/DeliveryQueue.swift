import Foundation

/// A delivery a worker has claimed: it holds the lease until `finish` or until the lease runs out.
package struct ClaimedDelivery: Sendable, Equatable {
    package var id: Int64
    package var verificationID: String
    package var appID: String
    package var appName: String
    package var channel: MessageChannel
    package var recipient: String
    package var sender: String?
    package var sealedCode: Data?
    /// 1 for the first try.
    package var attempt: Int
    package var expiresAt: Date
    /// The app's fallback chain, for messages that failed for good on their own channel.
    package var fallbackChannels: [MessageChannel]
    /// Whether the verification still waits for this code (not verified, locked or expired meanwhile).
    package var verificationPending: Bool
    /// The database's clock at the claim.
    package var claimedAt: Date
    /// What to say, fixed when queued (nil: the default verification text).
    package var messageTemplate: String?
    package var whatsAppTemplate: WhatsAppTemplate?
    /// To a test number: marked sent by provider `test`, no provider called.
    package var test: Bool
    /// False for a send requested from SQL whose code and message the worker has yet to make.
    package var prepared = true
    /// What the SQL caller asked for (used only while not `prepared`).
    package var requestedTemplate: String?
    /// The message's locale: the one its text was chosen in (what the SQL caller asked for while
    /// not `prepared`). A call speaks its language.
    package var requestedLocale: String?
    /// The verification's destination country (ISO 3166), for the rate card.
    package var country = ""
    /// When it became due (queued, or its retry's time): the start of its queue wait.
    package var dueAt: Date?
    /// The trace context of the request that queued it (a W3C `traceparent`), for the worker's spans.
    package var traceParent: String?
    /// To a test number with a scripted outcome: what the sandbox does with it.
    package var testOutcome: TestOutcome?

    package init(
        id: Int64, verificationID: String, appID: String, appName: String, channel: MessageChannel, recipient: String,
        sender: String?, sealedCode: Data?, attempt: Int, expiresAt: Date, fallbackChannels: [MessageChannel] = [],
        verificationPending: Bool, claimedAt: Date, messageTemplate: String? = nil,
        whatsAppTemplate: WhatsAppTemplate? = nil, test: Bool = false
    ) {
        self.test = test
        self.messageTemplate = messageTemplate
        self.whatsAppTemplate = whatsAppTemplate
        self.id = id
        self.verificationID = verificationID
        self.appID = appID
        self.appName = appName
        self.channel = channel
        self.recipient = recipient
        self.sender = sender
        self.sealedCode = sealedCode
        self.attempt = attempt
        self.expiresAt = expiresAt
        self.fallbackChannels = fallbackChannels
        self.verificationPending = verificationPending
        self.claimedAt = claimedAt
    }
}

/// One call to a provider, as recorded in `delivery_attempts`.
package struct DeliveryAttempt: Sendable, Equatable {
    package var provider: String
    package var result: ProviderResult
    package var latencyMilliseconds: Int
    /// What the message cost: the provider's price, or the rate card's for a message it accepted.
    package var price: Decimal?
    package var priceCurrency: String?
    package var priceSource: PriceSource?

    package enum PriceSource: String, Sendable {
        /// What the provider billed.
        case provider
        /// The operator's rate card: an estimate until the provider tells.
        case rateCard = "rate_card"
    }

    package init(provider: String, result: ProviderResult, latencyMilliseconds: Int) {
        self.provider = provider
        self.result = result
        self.latencyMilliseconds = latencyMilliseconds
        (price, priceCurrency) = (result.price, result.priceCurrency)
        if result.price != nil { priceSource = .provider }
    }

    /// Prices an accepted message the provider gave no price for by `card`.
    package mutating func price(by card: RateCard, country: String, channel: MessageChannel) {
        guard price == nil, result.outcome == .accepted, let estimate = card.price(channel: channel, country: country)
        else { return }
        (price, priceCurrency, priceSource) = (estimate, card.currency, .rateCard)
    }
}

/// Where a delivery goes after an attempt (or instead of one).
package enum DeliveryResolution: Sendable, Equatable {
    case sent(provider: String, messageID: String?)
    case retry(at: Date, reason: String)
    case failed(reason: String)
    /// Failed for good on its channel; a new delivery of the same code goes out on `channel`.
    case fallback(reason: String, channel: MessageChannel)
    /// Not sent because nobody needs the code any more.
    case canceled(reason: String)
}

/// What became of one claimed delivery: the provider call made (if any) and where the delivery goes.
package struct DeliveryOutcome: Sendable, Equatable {
    package var delivery: ClaimedDelivery
    package var attempt: DeliveryAttempt?
    package var resolution: DeliveryResolution

    package init(delivery: ClaimedDelivery, attempt: DeliveryAttempt?, resolution: DeliveryResolution) {
        self.delivery = delivery
        self.attempt = attempt
        self.resolution = resolution
    }
}

/// The delivery job queue: message deliveries, a kind of job.
package typealias DeliveryQueue = JobQueue<ClaimedDelivery, DeliveryOutcome>

/// The queue of status webhooks to apps, a kind of job.
package typealias WebhookQueue = JobQueue<ClaimedWebhook, WebhookOutcome>
