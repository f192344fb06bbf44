import Foundation
import Hummingbird
import Metrics
import NIOFoundationEssentialsCompat
import OTPCore
import OTPHTTP

/// `POST /otp/send`, `/otp/verify`, `/otp/resend` and `GET /otp/status`.
struct VerificationController {
    let service: VerificationService
    let access: AppAccess

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.post("send", use: send)
        group.post("verify", use: verify)
        group.post("resend", use: resend)
        group.get("status", use: status)
        group.get("rate-limits", use: rateLimits)
    }

    @Sendable func send(request: Request, context: OTPRequestContext) async throws -> Response {
        let buffer = try await JSONBody.read(request)
        let idempotencyKey = try Self.idempotencyKey(request.headers[.idempotencyKey])
        let body = try JSONBody.decode(SendRequest.self, from: buffer)
        let app = try await access.app(body.appid, context: context)
        var parameters = SendParameters(
            recipient: body.recipient, channel: body.channel, from: body.from, template: body.template,
            locale: body.locale, codeLength: body.codeLength?.value, expiresIn: body.expiresIn?.value,
            metadata: body.metadata)
        parameters.transaction = body.transaction?.input

        let claim = idempotencyKey.map {
            IdempotencyClaim(accountID: app.accountID, appID: app.id, key: $0, requestDigest: RequestDigest.of(buffer))
        }
        let outcome = try await service.send(app: app, parameters, idempotency: claim, actor: context.actor())
        switch outcome {
        case .created(let result):
            APIMetrics.sends(channel: result.channel, kind: .send).increment()
            return try jsonResponse(SendResponse(result: result), status: .accepted)
        case .replayed(let result):
            return try jsonResponse(SendResponse(result: result), status: .accepted)
        }
    }

    @Sendable func verify(request: Request, context: OTPRequestContext) async throws -> Response {
        let body = try JSONBody.decode(VerifyRequest.self, from: try await JSONBody.read(request))
        let app = try await access.app(body.appid, context: context)
        guard let verificationID = body.verificationID else {
            throw APIError.validation("verification_id", "verification_id is required")
        }
        guard let code = body.otpCode else { throw APIError.validation("otp_code", "otp_code is required") }
        guard CodeFormat.isWellFormed(code) else {
            throw APIError.validation("otp_code", "otp_code must be 6 to 10 digits")
        }
        let transaction = try body.transaction.map { body throws(OTPFailure) in try body.input.validated() }
        let decision = try await service.verify(
            app: app, verificationID: verificationID, code: code, recipient: body.recipient, transaction: transaction,
            actor: context.actor())
        APIMetrics.verifies(outcome: decision?.outcome ?? .notFound).increment()
        if decision?.refusal != nil { APIMetrics.refusals(code: .rateLimited).increment() }
        return try VerifyAnswer(decision).response(from: request, context: context)
    }

    @Sendable func resend(request: Request, context: OTPRequestContext) async throws -> Response {
        let body = try JSONBody.decode(ResendRequest.self, from: try await JSONBody.read(request))
        let app = try await access.app(body.appid, context: context)
        guard let verificationID = body.verificationID else {
            throw APIError.validation("verification_id", "verification_id is required")
        }
        let result = try await service.resend(
            app: app, verificationID: verificationID, channel: body.channel, actor: context.actor())
        APIMetrics.sends(channel: result.channel, kind: .resend).increment()
        return try jsonResponse(SendResponse(result: result), status: .accepted)
    }

    @Sendable func status(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let app = try await access.app(query["appid"].map(String.init), context: context)
        guard let verificationID = query["verification_id"].map(String.init) else {
            throw APIError.validation("verification_id", "verification_id is required")
        }
        guard let report = try await service.report(app: app, verificationID: verificationID) else {
            throw APIError(OTPFailure.verificationNotFound)
        }
        return try jsonResponse(StatusResponse(report: report))
    }

    @Sendable func rateLimits(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let app = try await access.app(query["appid"].map(String.init), context: context)
        guard let recipient = query["recipient"].map(String.init) else {
            throw APIError.validation("recipient", "recipient is required")
        }
        let statuses = try await service.rateLimits(app: app, recipient: recipient, ip: context.clientIP)
        return try jsonResponse(RateLimitsResponse(rules: statuses.map(RateLimitItem.init)))
    }

    static func idempotencyKey(_ header: String?) throws -> String? {
        guard let header else { return nil }
        let valid =
            (1...255).contains(header.utf8.count)
            && header.utf8.allSatisfy {
                (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 || $0 == 58
                    || $0 == 45
            }
        guard valid else {
            throw APIError.validation("Idempotency-Key", "Idempotency-Key must be 1 to 255 of A-Z a-z 0-9 _ : -")
        }
        return header
    }
}

/// The verify answer: the result at the top level, and for failures the usual error beside it.
struct VerifyAnswer {
    let decision: VerifyDecision?

    init(_ decision: VerifyDecision?) { self.decision = decision }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let outcome = decision?.outcome ?? .notFound
        var top: [String: JSONValue] = ["verified": .bool(outcome == .verified), "code": .string(outcome.rawValue)]
        if let decision, outcome != .notFound { top["status"] = .string(decision.status.rawValue) }
        if let decision, [.invalidCode, .maxAttemptsExceeded, .transactionMismatch].contains(outcome) {
            top["attempts_remaining"] = .int(decision.attemptsRemaining)
        }
        guard outcome != .verified else { return try jsonResponse(top) }
        var error = APIError(Self.status(of: outcome), ErrorCode(outcome) ?? .notFound, Self.message(of: outcome))
        if let refusal = decision?.refusal {
            error = APIError(OTPFailure.rateLimited(rule: refusal.rule, retryAfterSeconds: refusal.retryAfterSeconds))
        }
        error.topLevel = top
        return try error.response(from: request, context: context)
    }

    static func status(of outcome: VerifyOutcome) -> HTTPResponse.Status {
        switch outcome {
        case .verified: .ok
        case .invalidCode: .unprocessableContent
        case .maxAttemptsExceeded: .tooManyRequests
        case .expired: .gone
        case .alreadyVerified: .conflict
        case .notFound: .notFound
        case .rateLimited: .tooManyRequests
        case .transactionMismatch: .unprocessableContent
        }
    }

    static func message(of outcome: VerifyOutcome) -> String {
        switch outcome {
        case .verified: "verified"
        case .invalidCode: "the code is not right"
        case .maxAttemptsExceeded: "too many wrong codes; ask for a new verification"
        case .expired: "the code has expired"
        case .alreadyVerified: "this verification already succeeded"
        case .notFound: "no such verification"
        case .rateLimited: "too many wrong codes for this recipient; try again later"
        case .transactionMismatch:
            "this code confirms another transaction (amount, currency or payee differ, or none was given)"
        }
    }
}
