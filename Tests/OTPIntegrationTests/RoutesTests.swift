import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPTesting
import Testing

/// Unknown routes, wrong methods, operations routes, and garbage of every kind: always the JSON
/// error of the contract, never a 500.
@Suite struct RoutesTests {
    @Test func unknownRouteAndWrongMethod() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let unknown = try await client.get("/nope", headers: [:])
                #expect(unknown.status == .notFound)
                #expect(unknown.errorCode == "NOT_FOUND")
                let wrongMethod = try await client.execute(uri: "/otp/send", method: .get, headers: world.basicAuth)
                #expect(wrongMethod.status == .methodNotAllowed)
                #expect(wrongMethod.errorCode == "METHOD_NOT_ALLOWED")
                let deleteStatus = try await client.execute(
                    uri: "/otp/status", method: .delete, headers: world.basicAuth)
                #expect(deleteStatus.errorCode == "METHOD_NOT_ALLOWED")
            }
        }
    }

    @Test func operationsRoutesNeedNoCredentials() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                #expect(try await client.get("/healthz", headers: [:]).json["status"] as? String == "ok")
                // Readiness gives the database 2 s; thirty suites starting at once on two cores can take
                // longer, so a 503 first is allowed, as a load balancer would retry it.
                var ready = try await client.get("/readyz", headers: [:])
                for _ in 0..<20 where ready.status == .serviceUnavailable {
                    try await Task.sleep(for: .milliseconds(500))
                    ready = try await client.get("/readyz", headers: [:])
                }
                #expect(ready.json["status"] as? String == "ready")
                let document = String(buffer: try await client.get("/openapi.yaml", headers: [:]).body)
                #expect(document.hasPrefix("openapi: 3.1"))
                for path in ["/otp/send:", "/otp/verify:", "/otp/resend:", "/otp/status:", "/healthz:", "/readyz:"] {
                    #expect(document.contains(path), "\(path)")
                }
                #expect(try await client.get("/metrics", headers: [:]).status == .ok)
            }
        }
    }

    @Test func garbageNeverCausesA500() async throws {
        // A resend of the real verification with a garbage extra field is a valid resend: the
        // cooldown keeps it refused however long the loop takes on a loaded machine.
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 3600 }) { world in
            try await world.test { client in
                let id = try await world.send(client)
                var bodies = [
                    "{", "}", "null", "true", "0", "[]", "{\"appid\": null}", "{\"appid\": {}}",
                    "{\"appid\":\"\(world.app.id)\",\"recipient\":null}",
                    "{\"appid\":\"\(world.app.id)\",\"recipient\":\"+1\\u0000555\"}",
                    "{\"appid\":\"\(world.app.id)\",\"verification_id\":\"\(id)\",\"otp_code\":\"١٢٣٤٥٦\"}",
                    "{\"appid\":\"\(world.app.id)\",\"verification_id\":\"\(id)\",\"otp_code\":\"123456\",\"recipient\":\"' OR ''='\"}",
                    "{\"appid\":\"\(world.app.id)\",\"verification_id\":[\"\(id)\"],\"otp_code\":\"123456\"}",
                    "{\"appid\":\"\(world.app.id)\",\"recipient\":\"+12025550100\",\"code_length\":-99999999999}",
                    "{\"appid\":\"\(world.app.id)\",\"recipient\":\"+12025550100\",\"expires_in\":\"300\"}",
                    "{\"appid\":\"\(world.app.id)\",\"recipient\":\"+12025550100\",\"metadata\":{\"\":\"x\"}}",
                    "\u{FEFF}{\"appid\":\"x\"}", "{\"appid\":\"\\ud800\"}",
                ]
                var generator = SystemRandomNumberGenerator()
                for _ in 0..<40 {
                    let scalars = (0..<Int.random(in: 1...40, using: &generator)).compactMap { _ in
                        Unicode.Scalar(UInt32.random(in: 1...0x2FFFF, using: &generator))
                    }
                    let noise = String(String.UnicodeScalarView(scalars))
                    let escaped = jsonBody(["x": noise]).dropFirst(5).dropLast()
                    bodies.append(noise)
                    bodies.append("{\"appid\":\"\(world.app.id)\",\"recipient\":\(escaped),\"channel\":\(escaped)}")
                    bodies.append(
                        "{\"appid\":\"\(world.app.id)\",\"verification_id\":\"\(id)\",\"otp_code\":\(escaped)}")
                }
                for body in bodies {
                    for path in ["/otp/send", "/otp/verify", "/otp/resend"] {
                        let response = try await client.post(path, body, headers: world.basicAuth)
                        #expect((400..<500).contains(response.status.code), "\(path) \(body): \(response.status)")
                        #expect(response.errorCode != nil, "\(path) \(body)")
                    }
                }
                let query = try await client.get(
                    "/otp/status?appid=%F0%9F%99%82&verification_id=%27%3B%20DROP", headers: world.basicAuth)
                #expect(query.errorCode == "APP_NOT_FOUND")
                #expect(try await client.get("/healthz", headers: [:]).status == .ok)
            }
        }
    }
}
