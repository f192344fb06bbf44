/// Domain refusals. The API maps each to a status and error code; nothing here knows about HTTP.
public enum OTPFailure: Error, Sendable, Equatable {
    case unauthorized
    case appNotFound
    case appForbidden
    case validation(field: String, message: String)
    case invalidRecipient
    case channelNotAllowed(Channel)
    case templateNotFound
    case verificationNotFound
    case idempotencyKeyReused
    case resend(ResendRefusal)
    case rateLimited(rule: String, retryAfterSeconds: Int)
    case countryNotAllowed(String)
    case lineTypeRefused(LineType)
}
