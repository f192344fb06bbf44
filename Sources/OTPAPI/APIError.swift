import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import OTPCore

/// An error answer of the contract: `{"error": {"code", "message", "field"?, "limit"?, "request_id"?}}`,
/// optionally with more top-level fields (verify puts its result beside the error).
package struct APIError: HTTPResponseError, Equatable {
    package var status: HTTPResponse.Status
    package var code: ErrorCode
    package var message: String
    package var field: String?
    package var retryAfterSeconds: Int?
    package var requestID: String?
    /// The rule a `RATE_LIMITED` refusal names.
    package var limit: String?
    /// The kind of scope a `FRAUD_BLOCKED` refusal names (`country`, `prefix` or `ip`).
    package var rule: String?
    /// Extra top-level members, already encoded.
    package var topLevel: [String: JSONValue] = [:]
    /// The methods a `405` allows, sent as `Allow` (RFC 9110).
    package var allowedMethods: [HTTPRequest.Method] = []

    package init(
        _ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, field: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        if let requestID { error["request_id"] = .string(requestID) }
        if let limit { error["limit"] = .string(limit) }
        if let rule { error["rule"] = .string(rule) }
        var body = topLevel
        body["error"] = .object(error)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if !allowedMethods.isEmpty { headers[.allow] = allowedMethods.map(\.rawValue).joined(separator: ", ") }
        if status == .unauthorized {
            headers[.wwwAuthenticate] = #"Basic realm="otp", Bearer realm="otp""#
        }
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try JSONValue.encode(body))))
    }

    static func validation(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, .validationError, message, field: field)
    }

    static let unauthorized = APIError(.unauthorized, .unauthorized, "missing or invalid credentials")
    static let invalidJSON = APIError(.badRequest, .invalidJSON, "the body is not a JSON object")
    static let payloadTooLarge = APIError(.contentTooLarge, .payloadTooLarge, "the body is larger than 64 KiB")
    static let notFound = APIError(.notFound, .notFound, "no such route")
    static let unavailable = APIError(
        .serviceUnavailable, .unavailable, "the database is unavailable", retryAfterSeconds: 5)

    /// The contract's answer for a domain refusal.
    init(_ failure: OTPFailure) {
        switch failure {
        case .unauthorized: self = .unauthorized
        case .appNotFound: self.init(.notFound, .appNotFound, "no such app for this account", field: "appid")
        case .appForbidden: self.init(.forbidden, .appForbidden, "this key may not use this app", field: "appid")
        case .validation(let field, let message): self = .validation(field, message)
        case .invalidRecipient:
            self.init(
                .badRequest, .invalidRecipient, "recipient must be a phone number in E.164 form", field: "recipient")
        case .channelNotAllowed(let channel):
            self.init(
                .badRequest, .channelNotAllowed, "this app does not allow \(channel.rawValue)", field: "channel")
        case .templateNotFound:
            self.init(.notFound, .templateNotFound, "no such template", field: "template")
        case .verificationNotFound:
            self.init(.notFound, .notFound, "no such verification", field: "verification_id")
        case .idempotencyKeyReused:
            self.init(
                .unprocessableContent, .idempotencyKeyReused,
                "this Idempotency-Key was used with another request body")
        case .resend(.notPending):
            self.init(.conflict, .notPending, "the verification is no longer pending")
        case .resend(.maxSendsExceeded):
            self.init(.tooManyRequests, .maxSendsExceeded, "no more sends are allowed for this verification")
        case .resend(.cooldown(let seconds)):
            self.init(
                .tooManyRequests, .resendCooldown, "wait before asking for another code", retryAfterSeconds: seconds)
        case .rateLimited(let rule, let seconds):
            self.init(
                .tooManyRequests, .rateLimited, "too many requests; try again later", retryAfterSeconds: seconds)
            limit = rule
        case .countryNotAllowed:
            self.init(.forbidden, .countryNotAllowed, "this app does not send to that country", field: "recipient")
        case .fraudBlocked(let rule):
            self.init(
                .forbidden, .fraudBlocked,
                "this send looks like SMS pumping: too few codes sent to this \(rule) were verified recently")
            self.rule = rule
        case .spendLimitReached(let seconds):
            self.init(
                .tooManyRequests, .spendLimitReached,
                "this app has reached its spending limit for the day (UTC); try again after midnight UTC",
                retryAfterSeconds: seconds)
        case .lineTypeRefused(let type):
            self.init(
                .badRequest, .invalidRecipient, "this app does not send to \(type.rawValue) numbers on this channel",
                field: "recipient")
        }
    }
}

// Literal names of valid tokens: the failable initialiser cannot fail on them.
extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let idempotencyKey = Self("Idempotency-Key")!
    // swift-format-ignore: NeverForceUnwrap
    static let apiKey = Self("X-API-Key")!
    // swift-format-ignore: NeverForceUnwrap
    static let apiSecret = Self("X-API-Secret")!
}
