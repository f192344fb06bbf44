import AsyncHTTPClient
import Foundation
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A client of an otp service: `send` and `verify` for the common path, and `api`, the client
/// generated from the service's OpenAPI document, for every route.
///
/// ```swift
/// let otp = OTPService(serverURL: URL(string: "https://otp.example.com")!,
///                      credentials: .basic(keyID: "ak_...", secret: "..."))
/// let sent = try await otp.send(appID: "app_...", to: "+5511987654321")
/// let result = try await otp.verify(appID: "app_...", verificationID: sent.verificationId, code: "123456")
/// if result.verified { ... }
/// ```
public struct OTPService: Sendable {
    /// Every route of the API, as the OpenAPI document describes it.
    public let api: Client

    /// - Parameters:
    ///   - serverURL: where the service answers, e.g. `https://otp.example.com`.
    ///   - credentials: the API key, in one of the three styles the service accepts.
    ///   - httpClient: the AsyncHTTPClient to send with (its shared one by default).
    ///   - timeout: how long one call may take.
    public init(
        serverURL: URL, credentials: Credentials, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(30)
    ) {
        let (seconds, attoseconds) = timeout.components
        let transport = AsyncHTTPClientTransport(
            configuration: .init(
                client: httpClient, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        api = Client(serverURL: serverURL, transport: transport, middlewares: [CredentialsMiddleware(credentials)])
    }

    /// Starts a verification and queues its code (`POST /otp/send`). The answer comes before the
    /// message is sent. Throws `OTPServiceError` for every refusal (invalid number, limits, ...).
    public func send(
        appID: String, to recipient: String, channel: Components.Schemas.Channel? = nil, template: String? = nil,
        locale: String? = nil, idempotencyKey: String? = nil
    ) async throws -> Components.Schemas.SendAccepted {
        let body = Components.Schemas.SendRequest(
            appid: appID, recipient: recipient, channel: channel, template: template, locale: locale)
        let output = try await api.sendVerification(
            headers: .init(idempotencyKey: idempotencyKey), body: .json(body))
        switch output {
        case .accepted(let accepted): return try accepted.body.json
        case .badRequest(let answer): throw OTPServiceError(400, try? answer.body.json.error)
        case .unauthorized(let answer): throw OTPServiceError(401, try? answer.body.json.error)
        case .forbidden(let answer): throw OTPServiceError(403, try? answer.body.json.error)
        case .notFound(let answer): throw OTPServiceError(404, try? answer.body.json.error)
        case .contentTooLarge(let answer): throw OTPServiceError(413, try? answer.body.json.error)
        case .unprocessableContent(let answer): throw OTPServiceError(422, try? answer.body.json.error)
        case .tooManyRequests(let answer): throw OTPServiceError(429, try? answer.body.json.error)
        case .internalServerError(let answer): throw OTPServiceError(500, try? answer.body.json.error)
        case .serviceUnavailable(let answer): throw OTPServiceError(503, try? answer.body.json.error)
        case .undocumented(let status, _): throw OTPServiceError(status, nil)
        }
    }

    /// Checks a code (`POST /otp/verify`). Every outcome of the check is a `VerifyResult`, the
    /// right code (`verified`) and the wrong one (`code: .invalidCode`) alike; what stops a verify
    /// before the check (credentials, an unknown app, the IP's limit, the database) throws
    /// `OTPServiceError`.
    public func verify(
        appID: String, verificationID: String, code: String, recipient: String? = nil
    ) async throws -> Components.Schemas.VerifyResult {
        let body = Components.Schemas.VerifyRequest(
            appid: appID, verificationId: verificationID, otpCode: code, recipient: recipient)
        switch try await api.verifyCode(body: .json(body)) {
        case .ok(let answer): return try answer.body.json
        case .conflict(let answer): return try answer.body.json
        case .gone(let answer): return try answer.body.json
        case .unprocessableContent(let answer): return try answer.body.json
        case .notFound(let answer):
            let payload = try answer.body.json
            if let result = payload.value1 { return result }
            throw OTPServiceError(404, payload.value2?.error)
        case .tooManyRequests(let answer):
            let payload = try answer.body.json
            if let result = payload.value1 { return result }
            throw OTPServiceError(429, payload.value2?.error)
        case .badRequest(let answer): throw OTPServiceError(400, try? answer.body.json.error)
        case .unauthorized(let answer): throw OTPServiceError(401, try? answer.body.json.error)
        case .forbidden(let answer): throw OTPServiceError(403, try? answer.body.json.error)
        case .contentTooLarge(let answer): throw OTPServiceError(413, try? answer.body.json.error)
        case .internalServerError(let answer): throw OTPServiceError(500, try? answer.body.json.error)
        case .serviceUnavailable(let answer): throw OTPServiceError(503, try? answer.body.json.error)
        case .undocumented(let status, _): throw OTPServiceError(status, nil)
        }
    }
}

/// A refusal by the service: its HTTP status and the contract's `error` object, when it sent one.
public struct OTPServiceError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var detail: Components.Schemas.ErrorDetail?

    init(_ status: Int, _ detail: Components.Schemas.ErrorDetail?) {
        self.status = status
        self.detail = detail
    }

    public var description: String {
        guard let detail else { return "HTTP \(status)" }
        return "HTTP \(status) \(detail.code.rawValue): \(detail.message)"
    }
}
