/// Every kind of audit event the service writes to `otp.events` (the `event` column), and so
/// every name `/otp/logs?event=` can filter on.
package enum EventKind: String, Sendable, CaseIterable, Codable {
    case sendRequested = "send_requested"
    case resendRequested = "resend_requested"
    case deliveryQueued = "delivery_queued"
    case deliverySent = "delivery_sent"
    case deliveryAttemptFailed = "delivery_attempt_failed"
    case deliveryFailed = "delivery_failed"
    case deliveryDelivered = "delivery_delivered"
    case verifySucceeded = "verify_succeeded"
    case verifyFailed = "verify_failed"
    case locked
    case expired
    case rateLimited = "rate_limited"
    case refused
    /// A send the fraud guard refused (`enforce`) or would have refused (`monitor`).
    case fraudBlocked = "fraud_blocked"
    case fraudFlagged = "fraud_flagged"
    // Changes people make in the dashboard (actor `user:EMAIL`).
    case appCreated = "app_created"
    case appUpdated = "app_updated"
    case keyCreated = "key_created"
    case keyRevoked = "key_revoked"
    case templateCreated = "template_created"
    case templateUpdated = "template_updated"
    case templateDeleted = "template_deleted"
}

/// A request refused by a limit or by the app's rules, as the audit trail records it. The service
/// records every refusal itself, after the refused transaction rolled back.
package enum Refusal: Sendable, Equatable {
    /// A rate limit was full (`rule` is its name).
    case rateLimited(rule: String)
    /// An app rule said no (`reason` is the error code: `COUNTRY_NOT_ALLOWED` and the like).
    case rule(reason: String)

    package var eventKind: EventKind {
        switch self {
        case .rateLimited: .rateLimited
        case .rule: .refused
        }
    }

    /// The event's details object.
    package var details: [String: String] {
        switch self {
        case .rateLimited(let rule): ["limit": rule]
        case .rule(let reason): ["reason": reason]
        }
    }
}

extension OTPFailure {
    /// How the audit trail records this failure; nil for mistakes in the request itself.
    package var refusal: Refusal? {
        if case .rateLimited(let rule, _) = self { return .rateLimited(rule: rule) }
        return refusalReason.map { .rule(reason: $0) }
    }
}
