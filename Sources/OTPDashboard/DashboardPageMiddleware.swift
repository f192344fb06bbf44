import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OTPCore
import OTPHTTP

/// Every dashboard answer carries the same protective headers, and every failure becomes a page
/// (never the API's JSON): sign-in redirects, 403, 404, 429, 503 and, for anything unexpected, a
/// 500 page that shows only a request id (the error itself is logged).
struct DashboardPageMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    static let securityHeaders: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (.xFrameOptions, "DENY"),
        (.xContentTypeOptions, "nosniff"),
        (.referrerPolicy, "same-origin"),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = page(for: error, context: context)
        }
        for (name, value) in Self.securityHeaders { response.headers[name] = value }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    private func page(for error: any Error, context: Context) -> Response {
        switch error {
        case DashboardError.signInRequired:
            return Pages.redirect(to: "/dashboard/login")
        case DashboardError.notFound:
            return problem(.notFound, "Not found", "There is no such page in your account.")
        case DashboardError.viewerCannotChange:
            return problem(.forbidden, "Not allowed", "Your role is viewer: you can look at everything, not change it.")
        case DashboardError.formExpired:
            return problem(
                .forbidden, "Form expired",
                "This form is no longer valid (it came from another session). Reload the page and try again.")
        case DashboardError.badInput(let message):
            return problem(.badRequest, "Bad request", message)
        case OTPFailure.rateLimited(_, let seconds):
            var response = problem(
                .tooManyRequests, "Too many tries", "Too many failed sign-ins. Wait a few minutes and try again.")
            response.headers[.retryAfter] = String(seconds)
            return response
        case is StoreUnavailable,
            _ where RequestDeadline.hasPassed:
            context.logger.error("database unavailable for the dashboard")
            var response = problem(
                .serviceUnavailable, "Unavailable", "The database cannot be reached right now. Try again shortly.")
            response.headers[.retryAfter] = "5"
            return response
        case let error as HTTPError where error.status == .contentTooLarge:
            return problem(.contentTooLarge, "Too large", "The form is larger than the dashboard accepts.")
        case let error as HTTPError where error.status.kind == .clientError:
            return problem(error.status, error.status.reasonPhrase, "The request could not be read.")
        default:
            context.logger.error(
                "unexpected dashboard error",
                metadata: ["error": "\(String(reflecting: error))", "request.id": "\(context.id)"])
            return problem(
                .internalServerError, "Something went wrong",
                "The dashboard could not answer. Request id: \(context.id).")
        }
    }

    private func problem(_ status: HTTPResponse.Status, _ title: String, _ message: String) -> Response {
        Pages.render("problem", title: title, ["message": message], who: nil, status: status)
    }
}

extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    // swift-format-ignore: NeverForceUnwrap
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
