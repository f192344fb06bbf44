import Foundation

/// A send requested from SQL (`otp.request_verification`), in the caller's transaction: the
/// verification and its delivery exist, but no code or message yet. The worker prepares it when it
/// first claims the delivery, with the API's own rules (libphonenumber, the app's country and
/// line-type rules, the message choice) and charges the send limits as an API send does (without
/// `ip_5m`: a send from SQL has no caller address).
package struct RequestedSend: Sendable, Equatable {
    package var deliveryID: Int64
    package var verificationID: String
    package var appID: String
    package var recipient: String
    package var channel: MessageChannel
    package var locale: String?
    package var template: String?

    package init(
        deliveryID: Int64, verificationID: String, appID: String, recipient: String, channel: MessageChannel,
        locale: String?, template: String?
    ) {
        self.deliveryID = deliveryID
        self.verificationID = verificationID
        self.appID = appID
        self.recipient = recipient
        self.channel = channel
        self.locale = locale
        self.template = template
    }
}

/// What the worker writes for a requested send before its message goes out.
package struct PreparedSend: Sendable {
    package var request: RequestedSend
    package var country: String
    package var codeDigest: Data
    /// The code sealed for the delivery (and for the verification when the app resends the same code).
    package var sealedCode: Data
    package var keepsSealedCode: Bool
    package var codeLength: Int
    package var test: Bool
    package var message: QueuedMessage
    /// The send limits, charged when the prepared send is written.
    package var charges: [RateLimitCharge]
}

/// Where requested sends are completed or ended.
package protocol RequestedSendStore: Sendable {
    /// Charges `prepared.charges` and writes its code and message, in one transaction. False (and
    /// nothing written) when `workerID` no longer holds the delivery or the verification got a
    /// code meanwhile (a resend made one): the delivery is then not sent. Throws
    /// `OTPFailure.rateLimited` when a charge is refused.
    func complete(_ prepared: PreparedSend, workerID: String) async throws -> Bool

    /// Ends a requested send its rules refuse: the verification `canceled`, its delivery too, and
    /// the reason in a `refused` event.
    func cancel(_ request: RequestedSend, reason: String) async throws
}

extension VerificationService {
    /// Prepares a requested send as `send` would have made it: throws the same refusals (an invalid
    /// number, a country or line type the app refuses, an unknown template).
    package func prepare(_ request: RequestedSend, app: App) async throws -> PreparedSend {
        let parameters = SendParameters(
            recipient: request.recipient, channel: request.channel.rawValue, from: nil, template: request.template,
            locale: request.locale, codeLength: nil, expiresIn: nil, metadata: nil)
        let validated = try SendValidation.validate(parameters, policy: app.policy, numbers: numbers)
        let message = try await chooseMessage(app: app, validated)
        let code = try issueCode(
            verificationID: request.verificationID, recipient: validated.recipient.e164,
            length: validated.codeLength, policy: app.policy)
        return PreparedSend(
            request: request, country: validated.recipient.region,
            codeDigest: code.digest, sealedCode: code.sealed,
            keepsSealedCode: app.policy.resendPolicy == .sameCode, codeLength: code.length, test: code.test,
            message: message,
            charges: RateLimits.sendCharges(app: app, recipient: validated.recipient, ip: nil))
    }
}

extension OTPFailure {
    /// Why a requested send was ended, as its `refused` event says: the API's error code, and the
    /// limit for a refused charge.
    package var requestedSendReason: String {
        switch self {
        case .rateLimited(let rule, _): "RATE_LIMITED: \(rule)"
        case .invalidRecipient: "INVALID_RECIPIENT"
        case .countryNotAllowed(let region): "COUNTRY_NOT_ALLOWED: \(region)"
        case .lineTypeRefused(let type): "LINE_TYPE_REFUSED: \(type.rawValue)"
        case .templateNotFound: "TEMPLATE_NOT_FOUND"
        case .channelNotAllowed(let channel): "CHANNEL_NOT_ALLOWED: \(channel.rawValue)"
        case .validation(let field, let message): "VALIDATION_ERROR: \(field): \(message)"
        default: "REFUSED"
        }
    }
}
