import Hummingbird
import OTPCore

/// Gives every request one store deadline for all its database calls together (key lookup, app,
/// send...), so a database that answers slowly and then not at all still gets the request its
/// `503` within the deadline, not within a deadline per call.
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    let limit: Duration

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await RequestDeadline.$end.withValue(ContinuousClock.now.advanced(by: limit)) {
            try await next(request, context)
        }
    }
}
