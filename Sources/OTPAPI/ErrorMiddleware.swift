import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import OTPCore
import OTPHTTP

/// Turns every failure into the contract's JSON error: domain refusals into their codes, an unknown
/// route into 404 (405 when only the method is wrong), the database being away into 503, and
/// anything else into a 500 whose request id is also logged. Nothing internal reaches the body.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    /// The routes the router serves, for telling 405 from 404.
    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try answer(for: error, context: context, request: request).response(from: request, context: context)
        }
    }

    private func answer(for error: any Error, context: Context, request: Request) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let failure as OTPFailure:
            let answer = APIError(failure)
            if failure.isRefusal {
                APIMetrics.refusals(code: answer.code).increment()
            }
            return answer
        case let error as HTTPError:
            return mapped(error, request: request)
        case is CursorError:
            return .validation("cursor", "cursor is not one this service gave")
        case let error as StoreUnavailable:
            context.logger.error("database unavailable", metadata: ["reason": "\(error.reason)"])
            return .unavailable
        default:
            var unexpected = APIError(.internalServerError, .internalError, "unexpected error")
            unexpected.requestID = context.id
            context.logger.error(
                "unexpected error", metadata: ["error": "\(String(reflecting: error))", "request.id": "\(context.id)"])
            return unexpected
        }
    }

    private func mapped(_ error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            let allowed = routes.methods(forPath: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { return .notFound }
            var error = APIError(
                .methodNotAllowed, .methodNotAllowed, "use \(allowed.map(\.rawValue).joined(separator: ", "))")
            error.allowedMethods = allowed
            return error
        case .unauthorized: return .unauthorized
        case .contentTooLarge: return .payloadTooLarge
        case let status where status.kind == .serverError:
            return APIError(status, .internalError, error.body ?? status.reasonPhrase)
        case let status:
            return APIError(status, .badRequest, error.body ?? status.reasonPhrase)
        }
    }
}
