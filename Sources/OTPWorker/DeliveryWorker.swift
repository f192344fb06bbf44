import Foundation
import Logging
import Metrics
import OTPCore
import OTPTemplates
import ServiceLifecycle
import Synchronization

/// Sends queued deliveries: claims as many as it has free slots, calls the provider with no
/// transaction open, records the outcomes in batches. Wakes on NOTIFY and polls as a fallback.
///
/// On graceful shutdown it stops claiming and lets the deliveries in flight finish (each is bounded
/// by its provider's timeout). Deliveries of a worker that dies are requeued by any worker once
/// their lease runs out.
package struct DeliveryWorker: Service {
    package struct Configuration: Sendable {
        package var concurrency: Int
        package var lease: Duration
        package var pollInterval: Duration
        package var requeueInterval: Duration
        package var retry: RetryPolicy
        package var workerID: String

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

    package init(
        queue: any DeliveryQueue, chains: ProviderChains, sealer: CodeSealer, configuration: Configuration,
        logger: Logger
    ) {
        self.queue = queue
        self.chains = chains
        self.sealer = sealer
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        let outcomes = OutcomeBatcher(maximumBatch: Self.maximumOutcomeBatch)
        await withTaskGroup(of: Void.self) { recorder in
            recorder.addTask { await outcomes.run(write: record) }
            await claimAndDeliver(recordingIn: outcomes)
            // Every delivery is recorded by now; the recorder may stop.
            outcomes.close()
        }
    }

    /// Claims as many deliveries as there are free slots each time it is woken, until graceful
    /// shutdown; then waits for the deliveries in flight.
    private func claimAndDeliver(recordingIn outcomes: OutcomeBatcher) async {
        let (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let inFlight = SlotCounter()
        await withTaskGroup(of: Void.self) { wakeSources in
            wakeSources.addTask { await listen { ring.yield() } }
            wakeSources.addTask { await poll { ring.yield() } }
            ring.yield()
            await withDiscardingTaskGroup { deliveries in
                for await _ in doorbell.cancelOnGracefulShutdown() {
                    let free = configuration.concurrency - inFlight.count.withLock { $0 }
                    guard free > 0 else { continue }
                    let claimed: [ClaimedDelivery]
                    do {
                        // A claim stuck on a database that went away must not stop the loop; if
                        // it committed after all, its leases run out and the deliveries are requeued.
                        let (lease, workerID) = (configuration.lease, configuration.workerID)
                        claimed = try await Self.claimDeadline.run {
                            try await queue.claim(limit: free, lease: lease, workerID: workerID)
                        }
                    } catch {
                        logger.warning("claim failed", metadata: ["error": "\(String(reflecting: error))"])
                        continue
                    }
                    inFlight.count.withLock { $0 += claimed.count }
                    for delivery in claimed {
                        deliveries.addTask {
                            await deliver(delivery, recordingIn: outcomes)
                            inFlight.count.withLock { $0 -= 1 }
                            ring.yield()
                        }
                    }
                    // A full batch means more may be waiting: look again without waiting for a bell.
                    if claimed.count == free { ring.yield() }
                }
            }
            wakeSources.cancelAll()
        }
    }

    static let claimDeadline = Deadline(.seconds(10))

    /// The most outcomes one statement records.
    static let maximumOutcomeBatch = 256

    /// LISTEN for the wake-up hint, reconnecting after errors until cancelled.
    private func listen(_ wake: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                try await queue.listenForWork(wake)
            } catch {
                if Task.isCancelled { return }
                logger.debug("listen interrupted", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The fallback poll, and the periodic requeue of deliveries whose worker died.
    private func poll(_ wake: @escaping @Sendable () -> Void) async {
        let clock = ContinuousClock()
        var nextRequeue = clock.now
        while !Task.isCancelled {
            if clock.now >= nextRequeue {
                nextRequeue = clock.now.advanced(by: configuration.requeueInterval)
                if let count = try? await queue.requeueExpiredLeases(), count > 0 {
                    logger.notice("requeued deliveries whose lease ran out", metadata: ["count": "\(count)"])
                }
                if let backlog = try? await queue.backlog() {
                    WorkerMetrics.queueDepth.record(backlog.queued)
                    WorkerMetrics.oldestQueuedAge.record(backlog.oldestAgeSeconds)
                }
            }
            wake()
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    func deliver(_ delivery: ClaimedDelivery, recordingIn outcomes: OutcomeBatcher) async {
        let (attempt, resolution) = await attemptDelivery(delivery)
        WorkerMetrics.deliveries(provider: attempt?.provider ?? "none", outcome: resolution.metricOutcome).increment()
        await outcomes.record(DeliveryOutcome(delivery: delivery, attempt: attempt, resolution: resolution))
    }

    func record(_ batch: [DeliveryOutcome]) async {
        do {
            try await queue.finish(batch, workerID: configuration.workerID)
        } catch {
            guard batch.count == 1 else {
                // An outcome the database refuses must not take the rest of its batch down with it.
                for outcome in batch { await record([outcome]) }
                return
            }
            // The lease will run out and the delivery will be tried again.
            logger.error(
                "could not record a delivery outcome",
                metadata: ["delivery.id": "\(batch[0].delivery.id)", "error": "\(String(reflecting: error))"])
        }
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
                ? TestNumberProvider() as (any MessageProvider)?
                : chains.provider(for: delivery.channel, attempt: delivery.attempt)
        else {
            return (nil, .failed(reason: "no provider for \(delivery.channel.rawValue)"))
        }
        let secondsLeft = Int(delivery.expiresAt.timeIntervalSince(now).rounded(.up))
        let message = OutboundMessage(
            deliveryID: delivery.id, verificationID: delivery.verificationID, channel: delivery.channel,
            recipient: delivery.recipient, sender: delivery.sender, code: code,
            body: render(delivery, code: code, secondsLeft: secondsLeft),
            idempotencyToken: "otp-delivery-\(delivery.id)", whatsAppTemplate: delivery.whatsAppTemplate)
        let started = ContinuousClock.now
        let result = await provider.send(message)
        let elapsed = ContinuousClock.now - started
        chains.breaker.record(provider.name, outcome: result.outcome)
        WorkerMetrics.attemptDuration(provider: provider.name).record(duration: elapsed)
        let attempt = DeliveryAttempt(
            provider: provider.name, result: result, latencyMilliseconds: Int(elapsed / .milliseconds(1)))
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

/// Deliveries in flight, shared by the claim loop and the delivery tasks.
final class SlotCounter: Sendable {
    let count = Mutex(0)
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
    /// A failure for good: handed to the app's fallback channel when it has another one.
    func failure(_ delivery: ClaimedDelivery, reason: String) -> DeliveryResolution {
        guard let fallback = delivery.fallbackChannel, fallback != delivery.channel,
            chains.provider(for: fallback, attempt: 1) != nil
        else { return .failed(reason: reason) }
        return .fallback(reason: reason, channel: fallback)
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
