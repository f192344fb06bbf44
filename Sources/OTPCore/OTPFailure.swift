/// Domain refusals. The API maps each to a status and error code; nothing here knows about HTTP.
package enum OTPFailure: Error, Sendable, Equatable {
    case unauthorized
    case appNotFound
    case appForbidden
    case validation(field: String, message: String)
    case invalidRecipient
    case channelNotAllowed(MessageChannel)
    case templateNotFound
    case verificationNotFound
    case idempotencyKeyReused
    case resend(ResendRefusal)
    case rateLimited(rule: String, retryAfterSeconds: Int)
    case countryNotAllowed(String)
    case lineTypeRefused(LineType)
    /// The fraud guard refused the send (`rule`: the kind of scope over its line). Its audit event
    /// was written with the batch that decided it.
    case fraudBlocked(rule: String)
    /// The app's estimated spend of the UTC day would pass its cap; it starts again at midnight UTC.
    case spendLimitReached(retryAfterSeconds: Int)

    /// Refusals by a limit or an app rule, counted in `otp_refusals_total`.
    package var isRefusal: Bool {
        if case .rateLimited = self { return true }
        if case .fraudBlocked = self { return true }
        if case .spendLimitReached = self { return true }
        return refusalReason != nil
    }

    /// The audit name of a refusal the app's rules made (rate limits are recorded where they are
    /// counted); nil for mistakes in the request itself.
    package var refusalReason: String? {
        switch self {
        case .countryNotAllowed: "COUNTRY_NOT_ALLOWED"
        case .lineTypeRefused: "LINE_TYPE_REFUSED"
        case .resend(.cooldown): "RESEND_COOLDOWN"
        case .resend(.maxSendsExceeded): "MAX_SENDS_EXCEEDED"
        case .resend(.notPending): "NOT_PENDING"
        default: nil
        }
    }
}
