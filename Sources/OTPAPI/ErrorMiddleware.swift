import Foundation
import Hummingbird
import Logging
import Metrics
import OTPCore
import OTPPostgres
import PostgresNIO

/// Turns every failure into the contract's JSON error: domain refusals into their codes, an unknown
/// route into 404 (405 when only the method is wrong), the database being away into 503, and
/// anything else into a 500 whose request id is also logged. Nothing internal reaches the body.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try answer(for: error, request: request, context: context)
        }
    }

    private func answer(for error: any Error, request: Request, context: Context) throws -> Response {
        switch error {
        case let error as APIError:
            return try error.response(from: request, context: context)
        case let failure as OTPFailure where failure.isRefusal:
            Counter(label: "otp_refusals_total", dimensions: [("code", APIError(failure).code)]).increment()
            return try APIError(failure).response(from: request, context: context)
        case let failure as OTPFailure:
            return try APIError(failure).response(from: request, context: context)
        case let error as HTTPError:
            return try mapped(error, request: request).response(from: request, context: context)
        case is CursorError:
            return try APIError.validation("cursor", "cursor is not one this service gave").response(
                from: request, context: context)
        case is StoreUnavailable:
            context.logger.error("database did not answer in time")
            return try APIError.unavailable.response(from: request, context: context)
        case let error as PostgresTransactionError
        where error.closureError != nil && !DatabaseFaults.isUnavailable(error.closureError ?? error):
            return try answer(for: error.closureError ?? error, request: request, context: context)
        case let error where DatabaseFaults.isUnavailable(error):
            context.logger.error("database unavailable", metadata: ["reason": "\(DatabaseFaults.reason(error))"])
            return try APIError.unavailable.response(from: request, context: context)
        default:
            var unexpected = APIError(.internalServerError, "INTERNAL", "unexpected error")
            unexpected.requestID = context.id
            context.logger.error(
                "unexpected error", metadata: ["error": "\(String(reflecting: error))", "request.id": "\(context.id)"])
            return try unexpected.response(from: request, context: context)
        }
    }

    private func mapped(_ error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            if let allowed = Routes.methods(forPath: request.uri.path), !allowed.contains(request.method) {
                var error = APIError(
                    .methodNotAllowed, "METHOD_NOT_ALLOWED", "use \(allowed.map(\.rawValue).joined(separator: ", "))")
                error.allowedMethods = allowed
                return error
            }
            return .notFound
        case .unauthorized: return .unauthorized
        case .contentTooLarge: return .payloadTooLarge
        default:
            let code = error.status.reasonPhrase.uppercased().replacingOccurrences(of: " ", with: "_")
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        }
    }
}

/// The routes the service answers, for telling 405 from 404.
enum Routes {
    static let table: [String: [HTTPRequest.Method]] = [
        "/otp/send": [.post], "/otp/verify": [.post], "/otp/resend": [.post], "/otp/status": [.get],
        "/otp/rate-limits": [.get], "/otp/templates": [.get, .post], "/otp/list": [.get], "/otp/logs": [.get],
        "/otp/attempts": [.get],
        "/otp/reports": [.get],
        "/healthz": [.get, .head], "/readyz": [.get, .head], "/metrics": [.get], "/openapi.yaml": [.get],
        "/webhooks/twilio/status": [.post], "/webhooks/meta": [.get, .post],
    ]

    static func methods(forPath path: String) -> [HTTPRequest.Method]? {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if let methods = table[trimmed] { return methods }
        // The parameterised template routes.
        let parts = trimmed.split(separator: "/")
        guard parts.count >= 3, parts[0] == "otp", parts[1] == "templates" else { return nil }
        if parts.count == 3 { return [.get, .put, .delete] }
        return parts.count == 4 && parts[3] == "preview" ? [.post] : nil
    }
}
