import Metrics

/// Every metric the worker records, named and labelled here only.
enum WorkerMetrics {
    // The depth of each kind's queue (otp_delivery_queue_depth, otp_webhook_queue_depth...) is
    // recorded by `QueueWorker`.

    static func deliveries(provider: String, outcome: String) -> Counter {
        Counter(label: "otp_deliveries_total", dimensions: [("provider", provider), ("outcome", outcome)])
    }

    static func webhooks(outcome: String) -> Counter {
        Counter(label: "otp_webhooks_total", dimensions: [("outcome", outcome)])
    }

    static func attemptDuration(provider: String) -> Metrics.Timer {
        Metrics.Timer(label: "otp_delivery_attempt_duration", dimensions: [("provider", provider)])
    }
}
