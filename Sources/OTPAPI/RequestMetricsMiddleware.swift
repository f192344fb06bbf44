import Hummingbird
import Metrics
import OTPHTTP

/// Counts requests and their duration by route and status. The route is the matched pattern, never
/// the raw path, so the label set stays bounded.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let route =
            context.endpointPath ?? (routes.methods(forPath: request.uri.path).isEmpty ? "unknown" : request.uri.path)
        APIMetrics.requests(method: request.method.rawValue, route: route, status: response.status.code).increment()
        APIMetrics.requestDuration(route: route).record(duration: ContinuousClock.now - started)
        return response
    }
}
