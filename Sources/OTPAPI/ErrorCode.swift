import OTPCore

/// Every `error.code` the API can answer. The document's `ErrorDetail.code` lists the same set,
/// which a test checks.
package enum ErrorCode: String, Sendable, CaseIterable {
    case validationError = "VALIDATION_ERROR"
    case invalidJSON = "INVALID_JSON"
    case badRequest = "BAD_REQUEST"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case unauthorized = "UNAUTHORIZED"
    case forbidden = "FORBIDDEN"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case appNotFound = "APP_NOT_FOUND"
    case appForbidden = "APP_FORBIDDEN"
    case invalidRecipient = "INVALID_RECIPIENT"
    case channelNotAllowed = "CHANNEL_NOT_ALLOWED"
    case countryNotAllowed = "COUNTRY_NOT_ALLOWED"
    case templateNotFound = "TEMPLATE_NOT_FOUND"
    case idempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
    case notPending = "NOT_PENDING"
    case maxSendsExceeded = "MAX_SENDS_EXCEEDED"
    case resendCooldown = "RESEND_COOLDOWN"
    case rateLimited = "RATE_LIMITED"
    case fraudBlocked = "FRAUD_BLOCKED"
    case spendLimitReached = "SPEND_LIMIT_REACHED"
    // A verify's failures, answered in the verify shape with the error beside the result.
    case invalidCode = "INVALID_CODE"
    case maxAttemptsExceeded = "MAX_ATTEMPTS_EXCEEDED"
    case expired = "EXPIRED"
    case alreadyVerified = "ALREADY_VERIFIED"
    case transactionMismatch = "TRANSACTION_MISMATCH"
    case unavailable = "UNAVAILABLE"
    case internalError = "INTERNAL"

    /// The error code of a verify that did not succeed; nil for `verified`.
    init?(_ outcome: VerifyOutcome) {
        switch outcome {
        case .verified: return nil
        case .invalidCode: self = .invalidCode
        case .maxAttemptsExceeded: self = .maxAttemptsExceeded
        case .expired: self = .expired
        case .alreadyVerified: self = .alreadyVerified
        case .notFound: self = .notFound
        case .rateLimited: self = .rateLimited
        case .transactionMismatch: self = .transactionMismatch
        }
    }
}
