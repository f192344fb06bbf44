import Hummingbird
import Metrics

/// Counts requests and their duration by route and status. The route is the matched pattern, never
/// the raw path, so the label set stays bounded.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let route =
            context.endpointPath ?? (Routes.methods(forPath: request.uri.path) == nil ? "unknown" : request.uri.path)
        let dimensions = [
            ("method", request.method.rawValue), ("route", route), ("status", String(response.status.code)),
        ]
        Counter(label: "otp_http_requests_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - started
        Metrics.Timer(label: "otp_http_request_duration", dimensions: [("route", route)]).record(duration: elapsed)
        return response
    }
}
