import Foundation
import Logging
import Metrics
import OTPCore
import ServiceLifecycle
import Tracing

/// Delivers apps' status webhooks, run by `QueueWorker` like the message deliveries: each claimed
/// event is posted with no transaction open; any 2xx is done, anything else (or no answer within
/// the poster's timeout) is tried again on `WebhookRetrySchedule`, and failed for good after it.
package struct WebhookWorker: Service {
    package struct Configuration: Sendable {
        package var concurrency: Int
        package var lease: Duration
        package var pollInterval: Duration
        package var requeueInterval: Duration
        package var schedule: WebhookRetrySchedule
        package var workerID: String
        /// Where each job runs (`.stay`: where its claim did).
        package var placement = JobPlacement.stay

        package init(
            concurrency: Int = 32, lease: Duration = .seconds(30), pollInterval: Duration = .seconds(1),
            requeueInterval: Duration = .seconds(5), schedule: WebhookRetrySchedule = .standard,
            workerID: String = "webhooks-" + Identifiers.random(count: 8)
        ) {
            self.concurrency = concurrency
            self.lease = lease
            self.pollInterval = pollInterval
            self.requeueInterval = requeueInterval
            self.schedule = schedule
            self.workerID = workerID
        }
    }

    let queue: any WebhookQueue
    let poster: any WebhookPoster
    let sealer: CodeSealer
    let configuration: Configuration
    let logger: Logger

    package init(
        queue: any WebhookQueue, poster: any WebhookPoster, sealer: CodeSealer, configuration: Configuration,
        logger: Logger
    ) {
        self.queue = queue
        self.poster = poster
        self.sealer = sealer
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        await jobs.run()
    }

    /// The queue machinery this kind of job runs on.
    var jobs: QueueWorker<ClaimedWebhook, WebhookOutcome> {
        QueueWorker<ClaimedWebhook, WebhookOutcome>(
            queue: queue,
            configuration: .init(
                concurrency: configuration.concurrency, lease: configuration.lease,
                pollInterval: configuration.pollInterval, requeueInterval: configuration.requeueInterval,
                workerID: configuration.workerID, placement: configuration.placement),
            logger: logger, work: { await self.post($0) }
        )
    }

    func post(_ webhook: ClaimedWebhook) async -> WebhookOutcome {
        // A span per try, with the event's ids and the answer (never the URL: an owner's may carry a token).
        await withSpan("otp.webhook_delivery", context: .topLevel, ofKind: .producer) { span in
            span.attributes["otp.app.id"] = webhook.appID
            span.attributes["otp.webhook.id"] = webhook.webhookID
            span.attributes["otp.verification.id"] = webhook.verificationID
            span.attributes["otp.webhook.event"] = webhook.event.rawValue
            span.attributes["otp.webhook.attempt"] = webhook.attempt
            let outcome = await attempt(webhook)
            span.attributes["http.response.status_code"] = outcome.attempt?.httpStatus
            span.attributes["otp.webhook.resolution"] = outcome.resolution.metricOutcome
            if case .delivered = outcome.resolution {} else { span.setStatus(SpanStatus(code: .error)) }
            WorkerMetrics.webhooks(outcome: outcome.resolution.metricOutcome).increment()
            return outcome
        }
    }

    func attempt(_ webhook: ClaimedWebhook) async -> WebhookOutcome {
        guard let target = webhook.target else {
            return WebhookOutcome(
                webhook: webhook, attempt: nil, resolution: .canceled(reason: "the app's webhook is off"))
        }
        guard let secret = try? AppWebhook.open(target.sealedSecret, appID: webhook.appID, sealer: sealer) else {
            // Only an operator's key mistake does this; retrying keeps the event until it is fixed.
            logger.error("a webhook secret could not be opened", metadata: ["app.id": "\(webhook.appID)"])
            return WebhookOutcome(
                webhook: webhook, attempt: nil, resolution: retry(webhook, reason: "secret unreadable"))
        }
        let started = ContinuousClock.now
        let answer = await poster.post(
            url: target.url, webhookID: webhook.webhookID, body: webhook.body, secret: secret)
        let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
        switch answer {
        case .status(let status) where (200..<300).contains(status):
            return WebhookOutcome(
                webhook: webhook,
                attempt: WebhookAttempt(url: target.url, httpStatus: status, error: nil, latencyMilliseconds: latency),
                resolution: .delivered)
        case .status(let status):
            return WebhookOutcome(
                webhook: webhook,
                attempt: WebhookAttempt(
                    url: target.url, httpStatus: status, error: "http_\(status)", latencyMilliseconds: latency),
                resolution: retry(webhook, reason: "http_\(status)"))
        case .refused(let refusal):
            // An owner's URL that leads inside the operator's network: ended at once, never retried.
            logger.warning(
                "a webhook destination was refused",
                metadata: ["app.id": "\(webhook.appID)", "reason": "\(refusal.description)"])
            return WebhookOutcome(
                webhook: webhook,
                attempt: WebhookAttempt(
                    url: target.url, httpStatus: nil, error: "destination_refused", latencyMilliseconds: latency),
                resolution: .failed(reason: "destination_refused"))
        case .failed(let reason):
            return WebhookOutcome(
                webhook: webhook,
                attempt: WebhookAttempt(url: target.url, httpStatus: nil, error: reason, latencyMilliseconds: latency),
                resolution: retry(webhook, reason: reason))
        }
    }

    func retry(_ webhook: ClaimedWebhook, reason: String) -> WebhookOutcome.Resolution {
        var generator = SystemRandomNumberGenerator()
        guard let next = configuration.schedule.nextTry(after: webhook.attempt, now: Date(), using: &generator) else {
            return .failed(reason: "retries exhausted (\(reason))")
        }
        return .retry(at: next, reason: reason)
    }
}

extension WebhookOutcome.Resolution {
    var metricOutcome: String {
        switch self {
        case .delivered: "sent"
        case .retry: "retry"
        case .failed: "failed"
        case .canceled: "canceled"
        }
    }
}
