import Metrics
import OTPCore

/// Every metric the API records, named and labelled here only.
enum APIMetrics {
    static func requests(method: String, route: String, status: Int) -> Counter {
        Counter(
            label: "otp_http_requests_total",
            dimensions: [("method", method), ("route", route), ("status", "\(status)")])
    }

    static func requestDuration(route: String) -> Metrics.Timer {
        Metrics.Timer(label: "otp_http_request_duration", dimensions: [("route", route)])
    }

    enum SendKind: String { case send, resend }

    static func sends(channel: MessageChannel, kind: SendKind) -> Counter {
        Counter(label: "otp_sends_total", dimensions: [("channel", channel.rawValue), ("kind", kind.rawValue)])
    }

    static func verifies(outcome: VerifyOutcome) -> Counter {
        Counter(label: "otp_verifies_total", dimensions: [("outcome", outcome.rawValue)])
    }

    /// Requests a limit or an app rule refused, by the error code they were answered.
    static func refusals(code: ErrorCode) -> Counter {
        Counter(label: "otp_refusals_total", dimensions: [("code", code.rawValue)])
    }
}
