import Metrics

/// Every metric the worker records, named and labelled here only.
enum WorkerMetrics {
    static let queueDepth = Gauge(label: "otp_delivery_queue_depth")
    static let oldestQueuedAge = Gauge(label: "otp_delivery_queue_oldest_age_seconds")

    static func deliveries(provider: String, outcome: String) -> Counter {
        Counter(label: "otp_deliveries_total", dimensions: [("provider", provider), ("outcome", outcome)])
    }

    static func attemptDuration(provider: String) -> Metrics.Timer {
        Metrics.Timer(label: "otp_delivery_attempt_duration", dimensions: [("provider", provider)])
    }
}
