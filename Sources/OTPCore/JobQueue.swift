import Foundation

/// A kind of job in PostgreSQL's queue: claimed with a lease in one statement that skips rows
/// other workers hold, worked with no transaction open, and finished in batches. Message deliveries
/// and app webhooks are two kinds; `QueueWorker` runs either.
package protocol JobQueue<Job, Outcome>: Sendable {
    associatedtype Job: Sendable
    associatedtype Outcome: Sendable

    /// The kind's name in metrics and logs (`delivery`, `webhook`).
    var kind: String { get }

    /// Claims up to `limit` due jobs for `lease`.
    func claim(limit: Int, lease: Duration, workerID: String) async throws -> [Job]

    /// Records the outcomes in one transaction. An outcome of a job `workerID` no longer holds (its
    /// lease ran out and it was requeued) only records its attempt.
    func finish(_ outcomes: [Outcome], workerID: String) async throws

    /// Puts jobs whose lease ran out (their worker died) back in the queue; returns how many.
    func requeueExpiredLeases() async throws -> Int

    /// How many jobs wait, and for how long the oldest due one has waited (seconds).
    func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double)

    /// Calls `wake` whenever new work may be queued, until cancelled. A hint only: callers also poll.
    func listenForWork(_ wake: @Sendable () -> Void) async throws
}

/// A webhook event a worker has claimed, with where it goes now.
package struct ClaimedWebhook: Sendable, Equatable {
    package var id: Int64
    /// `webhook-id`: the same for every try of this event.
    package var webhookID: String
    package var appID: String
    package var verificationID: String
    package var event: AppWebhookEvent
    package var body: String
    /// 1 for the first try.
    package var attempt: Int
    package var createdAt: Date
    /// The app's webhook now; nil when it was turned off since.
    package var target: AppWebhook?

    package init(
        id: Int64, webhookID: String, appID: String, verificationID: String, event: AppWebhookEvent, body: String,
        attempt: Int, createdAt: Date, target: AppWebhook?
    ) {
        self.id = id
        self.webhookID = webhookID
        self.appID = appID
        self.verificationID = verificationID
        self.event = event
        self.body = body
        self.attempt = attempt
        self.createdAt = createdAt
        self.target = target
    }
}

/// One POST of a webhook event, as `/otp/attempts?kind=webhook` lists it.
package struct WebhookAttempt: Sendable, Equatable {
    package var url: String
    package var httpStatus: Int?
    package var error: String?
    package var latencyMilliseconds: Int

    package init(url: String, httpStatus: Int?, error: String?, latencyMilliseconds: Int) {
        self.url = url
        self.httpStatus = httpStatus
        self.error = error
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// What became of one claimed webhook event.
package struct WebhookOutcome: Sendable, Equatable {
    package enum Resolution: Sendable, Equatable {
        case delivered
        case retry(at: Date, reason: String)
        case failed(reason: String)
        /// The app turned its webhook off.
        case canceled(reason: String)
    }

    package var webhook: ClaimedWebhook
    package var attempt: WebhookAttempt?
    package var resolution: Resolution

    package init(webhook: ClaimedWebhook, attempt: WebhookAttempt?, resolution: Resolution) {
        self.webhook = webhook
        self.attempt = attempt
        self.resolution = resolution
    }
}

/// When a webhook that was not taken is tried again: the schedule Standard Webhooks suggests
/// (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the tries before), so an event is tried for
/// about 28 hours before it is failed for good. Each wait is stretched by up to 10% at random, so
/// that a receiver coming back is not hit by every event at once.
package struct WebhookRetrySchedule: Sendable {
    package var delays: [Duration]

    package static let standard = WebhookRetrySchedule(delays: [
        .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000),
        .seconds(36_000),
    ])

    package init(delays: [Duration]) { self.delays = delays }

    /// When try `attempt + 1` is due, or nil when `attempt` was the last.
    package func nextTry(after attempt: Int, now: Date, using generator: inout some RandomNumberGenerator) -> Date? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        let seconds =
            Double(delays[attempt - 1].components.seconds)
            + Double(delays[attempt - 1].components.attoseconds) / 1e18
        return now.addingTimeInterval(seconds * Double.random(in: 1.0...1.1, using: &generator))
    }

    /// How long the whole schedule waits at least.
    package var totalSeconds: Double {
        delays.reduce(0) { $0 + Double($1.components.seconds) + Double($1.components.attoseconds) / 1e18 }
    }
}
