import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPTesting
import Testing

/// Input PostgreSQL would refuse is refused at the edge with the contract's 400, never a 500.
@Suite struct InputEdgeTests {
    static func field(_ response: TestResponse) -> String? {
        (response.json["error"] as? [String: Any])?["field"] as? String
    }

    @Test func nulInAQueryParameterOrABodyFieldIsAValidationError() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let gets = [
                    ("/otp/status?appid=%00\(world.app.id)&verification_id=otp_x", "appid"),
                    ("/otp/list?appid=\(world.app.id)&status=pend%00ing", "status"),
                    ("/otp/logs?appid=\(world.app.id)&event=x%00", "event"),
                    ("/otp/templates?appid=\(world.app.id)&cursor=%00", "cursor"),
                ]
                for (path, field) in gets {
                    let response = try await client.get(path, headers: world.basicAuth)
                    #expect(response.status == .badRequest, "\(path): \(response.status)")
                    #expect(response.errorCode == "VALIDATION_ERROR")
                    #expect(Self.field(response) == field)
                }
                let posts: [(String, String, String)] = [
                    ("/otp/send", #"{"appid":"\#(world.app.id)","recipient":"+5511999888777\u0000"}"#, "recipient"),
                    (
                        "/otp/send",
                        #"{"appid":"\#(world.app.id)","recipient":"+5511999888777","metadata":{"k":"v\u0000"}}"#,
                        "metadata"
                    ),
                    ("/otp/templates", #"{"appid":"\#(world.app.id)","name":"a\u0000","body":"{{code}}"}"#, "name"),
                ]
                for (path, body, field) in posts {
                    let response = try await client.post(path, body, headers: world.basicAuth)
                    #expect(response.status == .badRequest, "\(body): \(response.status)")
                    #expect(Self.field(response) == field)
                }
                let sent: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                #expect(sent == 0, "nothing refused was sent")
            }
        }
    }

    @Test func aTemplateNameIsMeasuredAsTheTableMeasuresIt() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                // 100 flags are 100 characters to Swift and 200 code points to PostgreSQL's length().
                let flags = String(repeating: "🇧🇷", count: 100)
                let response = try await client.post(
                    "/otp/templates", jsonBody(["appid": world.app.id, "name": flags, "body": "{{code}}"]),
                    headers: world.basicAuth)
                #expect(response.status == .badRequest)
                #expect(Self.field(response) == "name")
                let fits = try await client.post(
                    "/otp/templates",
                    jsonBody(["appid": world.app.id, "name": String(repeating: "🇧🇷", count: 50), "body": "{{code}}"]),
                    headers: world.basicAuth)
                #expect(fits.status == .created || fits.status == .ok, "\(fits.status)")
            }
        }
    }

    @Test func emptyOrForgedCursorsAreRefusedBeforeAnySQL() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let forged = Data("not-a-time\u{1F}otp_x".utf8).base64URLEncodedForTest()
                let injected = Data("2026-01-01 00:00:00+00\u{1F}x' OR 1=1".utf8).base64URLEncodedForTest()
                for route in ["list", "logs", "attempts", "templates"] {
                    // An empty parameter is an absent one, here as everywhere: the first page.
                    let empty = try await client.get(
                        "/otp/\(route)?appid=\(world.app.id)&cursor=", headers: world.basicAuth)
                    #expect(empty.status == .ok)
                    for cursor in [forged, injected, "%%%"] {
                        let response = try await client.get(
                            "/otp/\(route)?appid=\(world.app.id)&cursor=\(cursor)", headers: world.basicAuth)
                        #expect(response.status == .badRequest, "\(route) cursor \(cursor): \(response.status)")
                        #expect(Self.field(response) == "cursor")
                    }
                }
            }
        }
    }

    @Test func aWrongMethodNamesTheAllowedOnes() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let cases: [(String, HTTPRequest.Method, String)] = [
                    ("/otp/send", .delete, "POST"), ("/otp/status", .post, "GET"),
                    ("/otp/templates", .put, "GET, POST"), ("/webhooks/meta", .delete, "GET, POST"),
                    ("/healthz", .post, "GET, HEAD"),
                ]
                for (path, method, allowed) in cases {
                    let response = try await client.execute(uri: path, method: method, headers: world.basicAuth)
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allowed, "\(method) \(path)")
                }
            }
        }
    }
}

extension Data {
    func base64URLEncodedForTest() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
