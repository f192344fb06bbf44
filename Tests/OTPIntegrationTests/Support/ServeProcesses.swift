import AsyncHTTPClient
import Foundation
import NIOCore
import OTPPostgres

/// Runs `body` with `count` `otp serve` processes on this test's database, each on its own port,
/// once all of them answer `/readyz`; stops them after.
func withServeProcesses(
    _ world: TestApp, count: Int = 2, _ body: @Sendable (_ ports: [Int], _ http: HTTPClient) async throws -> Void
) async throws {
    let ports = try (0..<count).map { _ in try EmbeddedPostgres.freePort() }
    let servers = try ports.map { port in
        try SpawnedProcess.start(
            ["serve"],
            environment: [
                "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey,
                "OTP_HTTP_ADDRESS": "127.0.0.1:\(port)", "OTP_LOG_LEVEL": "warning",
            ])
    }
    defer { servers.forEach { $0.stop() } }
    try await withHTTPClient { http in
        try await waitUntil(seconds: 30) {
            for port in ports {
                let ready = try? await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(1))
                if ready?.status.code != 200 { return false }
            }
            return true
        }
        try await body(ports, http)
    }
}

/// `POST /otp/send` for the test's app to one process's port; its status code.
func postSend(_ world: TestApp, _ http: HTTPClient, port: Int, recipient: String) async throws -> UInt {
    try await postJSON(world, http, port: port, path: "/otp/send", ["appid": world.app.id, "recipient": recipient])
}

/// A JSON body posted with the test's key to `path` on one process's port; its status code.
func postJSON(_ world: TestApp, _ http: HTTPClient, port: Int, path: String, _ body: [String: Any]) async throws
    -> UInt
{
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = .POST
    request.headers.add(name: "Authorization", value: world.basicAuth[.authorization] ?? "")
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: jsonBody(body)))
    return try await http.execute(request, timeout: .seconds(10)).status.code
}
