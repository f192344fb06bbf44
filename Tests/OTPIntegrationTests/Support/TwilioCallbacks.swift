import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

extension TestApp {
    /// Posts a status callback to `/webhooks/twilio/status` as Twilio would, form-encoded and signed
    /// with the test's auth token (or with `signature` when given, to forge one).
    func postTwilioStatus(
        _ client: some TestClientProtocol, _ parameters: [(String, String)], signature: String? = nil
    ) async throws -> TestResponse {
        let body = parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        headers[.init("X-Twilio-Signature")!] = signature ?? twilioSignature(parameters)
        return try await client.execute(
            uri: "/webhooks/twilio/status", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// Twilio's algorithm: HMAC-SHA1 of the callback URL, then each parameter's name and value
    /// sorted by name, keyed with the auth token.
    func twilioSignature(_ parameters: [(String, String)]) -> String {
        let content =
            (receiptSettings.twilioCallbackURL ?? "")
            + parameters.sorted { $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(content.utf8),
            using: SymmetricKey(data: Data((receiptSettings.twilioAuthToken?.exposed ?? "").utf8)))
        return Data(mac).base64EncodedString()
    }
}
