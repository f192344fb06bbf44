import Foundation
import Logging
import Metrics
import OTPCore
import OTPTemplates
import ServiceLifecycle
import Synchronization

/// Sends queued deliveries, run by `QueueWorker`: each claimed delivery goes to its provider with
/// no transaction open, and the outcome says where it goes next (sent, retried, failed, handed to
/// the app's fallback channel). On graceful shutdown the deliveries in flight finish (each is
/// bounded by its provider's timeout).
package struct DeliveryWorker: Service {
    package struct Configuration: Sendable {
        package var concurrency: Int
        package var lease: Duration
        package var pollInterval: Duration
        package var requeueInterval: Duration
        package var retry: RetryPolicy
        package var workerID: String
        /// Where each job runs (`.stay`: where its claim did).
        package var placement = JobPlacement.stay
        /// Prices the accepted messages whose provider reports no price.
        package var rateCard = RateCard.none

        package init(
            concurrency: Int = 64, lease: Duration = .seconds(30), pollInterval: Duration = .seconds(1),
            requeueInterval: Duration = .seconds(5), retry: RetryPolicy = RetryPolicy(),
            workerID: String = "worker-" + Identifiers.random(count: 8)
        ) {
            self.concurrency = concurrency
            self.lease = lease
            self.pollInterval = pollInterval
            self.requeueInterval = requeueInterval
            self.retry = retry
            self.workerID = workerID
        }
    }

    let queue: any DeliveryQueue
    let chains: ProviderChains
    let sealer: CodeSealer
    let configuration: Configuration
    let logger: Logger
    let templates = ParsedTemplates()
    /// For deliveries queued by `otp.request_verification`; without it they are canceled.
    var requestedSends: RequestedSendPreparation?
    /// Test numbers' scripted receipts and the vendors' early ones; without it they are not applied.
    var receiptsPass: ReceiptsPass?

    package init(
        queue: any DeliveryQueue, chains: ProviderChains, sealer: CodeSealer, configuration: Configuration,
        logger: Logger, requestedSends: RequestedSendPreparation? = nil, receiptsPass: ReceiptsPass? = nil
    ) {
        self.requestedSends = requestedSends
        self.receiptsPass = receiptsPass
        self.queue = queue
        self.chains = chains
        self.sealer = sealer
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await jobs.run() }
            if let receiptsPass { group.addTask { await receiptsPass.run() } }
            if let routes = chains.routes { group.addTask { await routes.run() } }
        }
    }

    /// The queue machinery this kind of job runs on.
    var jobs: QueueWorker<ClaimedDelivery, DeliveryOutcome> {
        QueueWorker<ClaimedDelivery, DeliveryOutcome>(
            queue: queue,
            configuration: .init(
                concurrency: configuration.concurrency, lease: configuration.lease,
                pollInterval: configuration.pollInterval, requeueInterval: configuration.requeueInterval,
                workerID: configuration.workerID, placement: configuration.placement),
            logger: logger, work: { await self.deliver($0) }
        )
    }

    func deliver(_ claimed: ClaimedDelivery) async -> DeliveryOutcome {
        await DeliveryTracing.delivering(claimed) { await prepareAndAttempt(claimed) }
    }

    private func prepareAndAttempt(_ claimed: ClaimedDelivery) async -> DeliveryOutcome {
        var delivery = claimed
        if !claimed.prepared, claimed.verificationPending {
            guard let requestedSends else {
                return DeliveryOutcome(
                    delivery: claimed, attempt: nil, resolution: .canceled(reason: "no preparation for requested sends")
                )
            }
            switch await requestedSends.prepare(claimed, workerID: configuration.workerID, logger: logger) {
            case .ready(let ready): delivery = ready
            case .notSent(let resolution):
                WorkerMetrics.deliveries(provider: "none", outcome: resolution.metricOutcome).increment()
                return DeliveryOutcome(delivery: claimed, attempt: nil, resolution: resolution)
            }
        }
        let (attempt, resolution) = await attemptDelivery(delivery)
        WorkerMetrics.deliveries(provider: attempt?.provider ?? "none", outcome: resolution.metricOutcome).increment()
        return DeliveryOutcome(delivery: delivery, attempt: attempt, resolution: resolution)
    }

    func attemptDelivery(_ delivery: ClaimedDelivery) async -> (DeliveryAttempt?, DeliveryResolution) {
        let now = Date()
        guard delivery.verificationPending else { return (nil, .canceled(reason: "verification no longer pending")) }
        guard delivery.expiresAt > now else { return (nil, .failed(reason: "expired")) }
        guard let sealed = delivery.sealedCode,
            let code = try? sealer.open(sealed, verificationID: delivery.verificationID)
        else { return (nil, .failed(reason: "code unreadable")) }
        guard
            let provider = delivery.test
                ? TestNumberProvider(outcome: delivery.testOutcome) as (any MessageProvider)?
                : chains.provider(
                    for: delivery.channel, attempt: delivery.attempt, country: delivery.country,
                    deliveryID: delivery.id)
        else {
            return (nil, .failed(reason: "no provider for \(delivery.channel.rawValue)"))
        }
        let secondsLeft = Int(delivery.expiresAt.timeIntervalSince(now).rounded(.up))
        var message = OutboundMessage(
            deliveryID: delivery.id, verificationID: delivery.verificationID, channel: delivery.channel,
            recipient: delivery.recipient, sender: delivery.sender, code: code,
            body: render(delivery, code: code, secondsLeft: secondsLeft),
            idempotencyToken: "otp-delivery-\(delivery.id)", whatsAppTemplate: delivery.whatsAppTemplate)
        if delivery.channel == .voice {
            message.voiceScript = VoiceScript(
                appName: delivery.appName, code: code, locale: delivery.requestedLocale)
        }
        let started = ContinuousClock.now
        let result = await DeliveryTracing.calling(provider, message)
        let elapsed = ContinuousClock.now - started
        chains.breaker.record(provider.name, outcome: result.outcome)
        WorkerMetrics.attemptDuration(provider: provider.name).record(duration: elapsed)
        var attempt = DeliveryAttempt(
            provider: provider.name, result: result, latencyMilliseconds: Int(elapsed / .milliseconds(1)))
        if !delivery.test {
            attempt.price(by: configuration.rateCard, country: delivery.country, channel: delivery.channel)
        }
        switch result.outcome {
        case .accepted:
            return (attempt, .sent(provider: provider.name, messageID: result.providerMessageID))
        case .permanent:
            return (
                attempt, failure(delivery, reason: result.errorCode ?? result.errorMessage ?? "rejected by provider")
            )
        case .retryable:
            var rng = SystemRandomNumberGenerator()
            guard
                let next = configuration.retry.nextAttempt(
                    after: delivery.attempt, retryAfterSeconds: result.retryAfterSeconds, now: Date(),
                    expiresAt: delivery.expiresAt, using: &rng)
            else {
                guard delivery.attempt >= configuration.retry.maxAttempts else {
                    return (attempt, .failed(reason: "expired"))
                }
                return (attempt, failure(delivery, reason: "retries exhausted"))
            }
            return (attempt, .retry(at: next, reason: result.errorCode ?? result.errorMessage ?? "transient failure"))
        }
    }
}

extension DeliveryWorker {
    /// The message text the delivery was queued with, rendered with the code. A template that no
    /// longer parses (it was checked when saved) falls back to the default text rather than losing the code.
    func render(_ delivery: ClaimedDelivery, code: String, secondsLeft: Int) -> String {
        let minutes = max(1, (secondsLeft + 59) / 60)
        if let text = delivery.messageTemplate, let template = templates.template(text) {
            return template.render(code: code, appName: delivery.appName, expiresInMinutes: minutes)
        }
        return MessageText.verification(appName: delivery.appName, code: code, ttlSeconds: secondsLeft)
    }
    /// A failure for good: handed to the next channel of the app's fallback chain that has a
    /// provider (any, for a test number, which needs none).
    func failure(_ delivery: ClaimedDelivery, reason: String) -> DeliveryResolution {
        let next = FallbackChain.candidates(after: delivery.channel, in: delivery.fallbackChannels).first {
            delivery.test || chains.provider(for: $0, attempt: 1) != nil
        }
        guard let next else { return .failed(reason: reason) }
        return .fallback(reason: reason, channel: next)
    }
}

extension DeliveryResolution {
    var metricOutcome: String {
        switch self {
        case .sent: "sent"
        case .retry: "retry"
        case .failed: "failed"
        case .fallback: "fallback"
        case .canceled: "canceled"
        }
    }
}
