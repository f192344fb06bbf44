import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OTPCore

/// Hands each message to the operator's own HTTP endpoint, signed per the Standard Webhooks specification.
///
/// The operator's service does the actual sending (an in-house SMS gateway, another vendor...). The body is
/// JSON: `{"type":"otp.message","timestamp":...,"data":{...}}`; headers `webhook-id` (stable across retries of
/// one delivery, so the receiver can drop repeats), `webhook-timestamp` and `webhook-signature`.
/// 2xx is accepted; 408, 429 and 5xx are retried; any other status is final.
package struct WebhookProvider: MessageProvider {
    package struct Configuration: Sendable {
        package var url: String
        /// The signing secret: `whsec_` + base64 as the spec serialises it, or the bare base64.
        package var secret: Secret
        package var timeout: Duration

        package init(url: String, secret: String, timeout: Duration = .seconds(10)) {
            self.url = url
            self.secret = Secret(secret)
            self.timeout = timeout
        }
    }

    package let name = "webhook"
    private let configuration: Configuration
    private let httpClient: HTTPClient

    package init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// The event body. `from` is sent as `null` when the app has no sender name.
    struct Event: Encodable {
        var type = "otp.message"
        var timestamp: String
        var data: Payload

        struct Payload: Encodable {
            var deliveryID: Int64
            var verificationID: String
            var channel: String
            var to: String
            var from: String?
            var body: String
            var code: String

            enum CodingKeys: String, CodingKey {
                case deliveryID = "delivery_id"
                case verificationID = "verification_id"
                case channel, to, from, body, code
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(deliveryID, forKey: .deliveryID)
                try container.encode(verificationID, forKey: .verificationID)
                try container.encode(channel, forKey: .channel)
                try container.encode(to, forKey: .to)
                try container.encode(from, forKey: .from)
                try container.encode(body, forKey: .body)
                try container.encode(code, forKey: .code)
            }
        }
    }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        let now = Date()
        let event = Event(
            timestamp: now.ISO8601Format(),
            data: .init(
                deliveryID: message.deliveryID, verificationID: message.verificationID,
                channel: message.channel.rawValue, to: message.recipient, from: message.sender, body: message.body,
                code: message.code))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: Data
        do {
            body = try encoder.encode(event)
        } catch {
            return ProviderResult(
                outcome: .permanent, errorCode: "encoding", errorMessage: "could not encode the webhook")
        }
        let id = Self.webhookID(for: message)
        let timestamp = Int(now.timeIntervalSince1970)
        let signature = StandardWebhookSignature.sign(
            id: id, timestamp: timestamp, body: body, secret: configuration.secret.exposed)

        var request = HTTPClientRequest(url: configuration.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signature)
        request.body = .bytes(ByteBuffer(bytes: body))

        switch await HTTPProviderSupport.execute(request, on: httpClient, timeout: configuration.timeout) {
        case .failed(let result):
            return result
        case .answered(let response):
            return interpret(response, webhookID: id)
        }
    }

    /// The delivery's idempotency token: the same for every retry, as the spec asks of `webhook-id`.
    /// A `.` would make the signed content ambiguous, so none may appear.
    static func webhookID(for message: OutboundMessage) -> String {
        message.idempotencyToken.replacingOccurrences(of: ".", with: "_")
    }

    /// An optional `{"id": "..."}` in the receiver's answer, kept as the provider's message id.
    private struct Receipt: Decodable {
        var id: String?
    }

    func interpret(_ response: ProviderHTTPResponse, webhookID: String) -> ProviderResult {
        // The shared table also retries 425; the webhook contract names 408, 429 and 5xx, and 425 is "too early",
        // which is transient by definition, so the two agree in spirit.
        let outcome = HTTPProviderSupport.outcome(forStatus: response.status)
        if outcome == .accepted {
            let receipt = try? JSONDecoder().decode(Receipt.self, from: response.bodyData)
            return .accepted(messageID: receipt?.id ?? webhookID, httpStatus: response.status)
        }
        // The receiver's body is not kept: it may echo the request, code included.
        return ProviderResult(
            outcome: outcome, httpStatus: response.status, errorCode: "http_\(response.status)",
            errorMessage: "the webhook answered HTTP \(response.status)",
            retryAfterSeconds: outcome == .retryable ? response.retryAfterSeconds : nil)
    }
}

/// The symmetric (`v1`) signature of the Standard Webhooks specification.
///
/// The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the signature is HMAC-SHA256 under the
/// secret's key, base64-encoded and prefixed `v1,`. The key is the base64 after `whsec_`.
package enum StandardWebhookSignature {
    /// The `webhook-signature` header value for one request.
    package static func sign(id: String, timestamp: Int, body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: signedContent(id: id, timestamp: timestamp, body: body), using: key(fromSecret: secret))
        return "v1," + Data(mac).base64EncodedString()
    }

    package static func sign(id: String, timestamp: Int, body: String, secret: String) -> String {
        sign(id: id, timestamp: timestamp, body: Data(body.utf8), secret: secret)
    }

    /// True when any `v1,` entry of a (space-separated) `webhook-signature` header matches. Constant-time per entry.
    package static func verify(signatureHeader: String, id: String, timestamp: Int, body: Data, secret: String) -> Bool
    {
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        let key = key(fromSecret: secret)
        for entry in signatureHeader.split(separator: " ") where entry.hasPrefix("v1,") {
            guard let mac = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: content, using: key) { return true }
        }
        return false
    }

    static func signedContent(id: String, timestamp: Int, body: Data) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return content
    }

    /// `whsec_<base64>` or bare base64 give the decoded bytes. Anything else is used as its UTF-8 bytes, so a
    /// mistyped secret still signs (and the receiver's check fails loudly) instead of sending unsigned requests.
    static func key(fromSecret secret: String) -> SymmetricKey {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        if let bytes = Data(base64Encoded: encoded), !bytes.isEmpty {
            return SymmetricKey(data: bytes)
        }
        return SymmetricKey(data: Data(secret.utf8))
    }
}
