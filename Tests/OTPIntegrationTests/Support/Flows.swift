import Foundation
import HummingbirdTesting
import OTPTesting
import Testing

extension TestApp {
    /// Sends a code with a known value and returns the verification id.
    func send(
        _ client: some TestClientProtocol, code: String = "123456", recipient: String = "+5511999888777",
        extra: [String: Any] = [:]
    ) async throws -> String {
        codes.push(code)
        var body: [String: Any] = ["appid": app.id, "recipient": recipient]
        body.merge(extra) { $1 }
        let response = try await client.post("/otp/send", jsonBody(body), headers: basicAuth)
        try #require(response.status == .accepted, "send answered \(response.status): \(String(buffer: response.body))")
        return try #require(response.json["verification_id"] as? String)
    }

    func verify(
        _ client: some TestClientProtocol, _ verificationID: String, code: String, recipient: String? = nil
    ) async throws -> TestResponse {
        var body: [String: Any] = ["appid": app.id, "verification_id": verificationID, "otp_code": code]
        if let recipient { body["recipient"] = recipient }
        return try await client.post("/otp/verify", jsonBody(body), headers: basicAuth)
    }

    func resend(_ client: some TestClientProtocol, _ verificationID: String, channel: String? = nil) async throws
        -> TestResponse
    {
        var body: [String: Any] = ["appid": app.id, "verification_id": verificationID]
        if let channel { body["channel"] = channel }
        return try await client.post("/otp/resend", jsonBody(body), headers: basicAuth)
    }

    func status(_ client: some TestClientProtocol, _ verificationID: String) async throws -> TestResponse {
        try await client.get("/otp/status?appid=\(app.id)&verification_id=\(verificationID)", headers: basicAuth)
    }

    /// Moves a verification's clock: its code expires `seconds` from now (negative: in the past).
    func setExpiry(_ verificationID: String, secondsFromNow seconds: Double) async throws {
        try await client.query(
            """
            UPDATE otp.verifications SET expires_at = now() + make_interval(secs => \(seconds)),
                resend_available_at = least(resend_available_at, now())
            WHERE id = \(verificationID)
            """, logger: quietLogger)
        try await client.query(
            """
            UPDATE otp.deliveries SET expires_at = now() + make_interval(secs => \(seconds))
            WHERE verification_id = \(verificationID)
            """, logger: quietLogger)
    }
}
