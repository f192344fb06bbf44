import Hummingbird
import NIOCore
import OTPHTTP

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`: no authentication.
struct OperationsController {
    /// True when the database answers and its schema is current.
    let isReady: @Sendable () async -> Bool
    /// The Prometheus text exposition, when metrics are collected.
    let metricsText: (@Sendable () -> String)?
    /// False when `/metrics` is served on a listener of its own: then this router has no such route.
    var servesMetrics = true

    func addRoutes(to router: Router<OTPRequestContext>) {
        let health: @Sendable (Request, OTPRequestContext) async throws -> Response = { _, _ in
            try jsonResponse(["status": "ok"])
        }
        let readiness: @Sendable (Request, OTPRequestContext) async throws -> Response = { _, _ in
            guard await isReady() else { throw APIError.unavailable }
            return try jsonResponse(["status": "ready"])
        }
        // Load balancers' health checks often ask with HEAD: the same answer without its body.
        router.get("healthz", use: health)
        router.head("healthz") { try await health($0, $1).createHeadResponse() }
        router.get("readyz", use: readiness)
        router.head("readyz") { try await readiness($0, $1).createHeadResponse() }
        if servesMetrics {
            router.get("metrics") { _, _ in Self.metricsResponse(metricsText?() ?? "") }
        }
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }

    static func metricsResponse(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
