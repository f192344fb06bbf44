import HTTPTypes
import Hummingbird
import Tracing

/// A server span per request, named by its route pattern (`POST /otp/send`), continuing the
/// caller's trace when it sends a `traceparent`. Its attributes are the method, the matched route
/// and the status, nothing else: paths, query strings and headers can carry phone numbers (the
/// dashboard's filters) or credentials, so none of them is recorded (Hummingbird's own tracing
/// middleware records the path and query). With tracing off the tracer is a no-op.
package struct RequestTracingMiddleware: RouterMiddleware {
    package typealias Context = OTPRequestContext

    package init() {}

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var parent = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HeaderFieldsExtractor())
        let span = startSpan("\(request.method.rawValue) unknown route", context: parent, ofKind: .server)
        span.attributes["http.request.method"] = request.method.rawValue
        defer { span.end() }
        do {
            let response = try await ServiceContext.$current.withValue(span.context) {
                try await next(request, context)
            }
            record(status: Int(response.status.code), context: context, on: span, method: request.method)
            return response
        } catch {
            // The API's errors are answers by now (ErrorMiddleware is inside this one); what is
            // left is a 500 or a client's status the error carries.
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(status: Int(status), context: context, on: span, method: request.method)
            throw error
        }
    }

    private func record(status: Int, context: Context, on span: any Span, method: HTTPRequest.Method) {
        if let route = context.endpointPath {
            span.operationName = "\(method.rawValue) \(route)"
            span.attributes["http.route"] = route
        }
        span.attributes["http.response.status_code"] = status
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// Reads the W3C trace context headers (`traceparent`, `tracestate`) from a request.
struct HeaderFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        guard let name = HTTPField.Name(key) else { return nil }
        return carrier[name]
    }
}
