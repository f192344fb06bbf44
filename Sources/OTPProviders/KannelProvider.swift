import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OTPCore

/// Sends SMS through the operator's own Kannel gateway (`smsbox`'s HTTP `sendsms`), which speaks
/// SMPP or another SMSC protocol to the operator's aggregators.
///
/// `GET {sendsms}?username&password&to&text&from&coding&charset=UTF-8[&smsc][&dlr-mask&dlr-url]`:
/// `coding` 0 (GSM-7) or 2 (UCS-2), as `SMSCounter.measure` decides; the text goes as UTF-8 and
/// Kannel converts it. Kannel answers `202` "0: Accepted for delivery" or "3: Queued for later
/// delivery" (both accepted: it keeps the message in its store), `403` for bad credentials, `4xx`
/// for a bad request (final) and `503` or no answer when it cannot take it now (retried). With a
/// receipt URL and secret set it asks for delivery reports (dlr-mask 19: delivered, undelivered,
/// refused by the SMSC) at `{receipts}?message=ID&token=HMAC&type=%d`; Kannel signs nothing, so the
/// token (`ReceiptToken`) is what the receipt route believes. The message id is ours:
/// `kannel-<delivery id>`, the same for every try of one delivery.
package struct KannelProvider: MessageProvider {
    package struct Configuration: Sendable {
        package var sendsmsURL: String
        package var username: String
        package var password: Secret
        /// The `smsc-id` to route through, when Kannel has several.
        package var smsc: String?
        /// The public URL of `GET /webhooks/kannel/status`, and the secret its tokens are made with.
        package var receiptURL: String?
        package var receiptSecret: Secret?
        package var timeout: Duration

        package init(
            sendsmsURL: String, username: String, password: String, smsc: String? = nil, receiptURL: String? = nil,
            receiptSecret: String? = nil, timeout: Duration = .seconds(10)
        ) {
            self.sendsmsURL = sendsmsURL
            self.username = username
            self.password = Secret(password)
            self.smsc = smsc
            self.receiptURL = receiptURL
            self.receiptSecret = receiptSecret.map { Secret($0) }
            self.timeout = timeout
        }
    }

    package let name = "kannel"
    /// Delivered to the phone (1), not delivered to the phone (2), refused by the SMSC (16).
    static let receiptMask = 19
    private let configuration: Configuration
    private let httpClient: HTTPClient

    package init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        guard message.channel == .sms else {
            return ProviderResult(
                outcome: .permanent, errorCode: "unsupported_channel", errorMessage: "Kannel sends SMS only")
        }
        var request = HTTPClientRequest(url: requestURL(for: message))
        request.method = .GET
        switch await HTTPProviderSupport.execute(request, on: httpClient, timeout: configuration.timeout) {
        case .failed(let result): return result
        case .answered(let response): return interpret(response, message: message)
        }
    }

    static func messageID(for message: OutboundMessage) -> String { "kannel-\(message.deliveryID)" }

    func requestURL(for message: OutboundMessage) -> String {
        let coding = SMSCounter.measure(message.body).encoding == .gsm7 ? "0" : "2"
        var fields: [(name: String, value: String)] = [
            ("username", configuration.username), ("password", configuration.password.exposed),
            ("to", message.recipient), ("text", message.body), ("coding", coding), ("charset", "UTF-8"),
        ]
        if let sender = message.sender { fields.append(("from", sender)) }
        if let smsc = configuration.smsc { fields.append(("smsc", smsc)) }
        if let base = configuration.receiptURL, let secret = configuration.receiptSecret {
            let id = Self.messageID(for: message)
            let token = ReceiptToken.make(messageID: id, secret: secret.exposed)
            let separator = base.contains("?") ? "&" : "?"
            // Kannel puts the report's type where `%d` stands when it calls the URL.
            fields.append(("dlr-mask", String(Self.receiptMask)))
            fields.append(("dlr-url", "\(base)\(separator)message=\(id)&token=\(token)&type=%d"))
        }
        let separator = configuration.sendsmsURL.contains("?") ? "&" : "?"
        return configuration.sendsmsURL + separator + HTTPProviderSupport.formURLEncoded(fields)
    }

    func interpret(_ response: ProviderHTTPResponse, message: OutboundMessage) -> ProviderResult {
        let text = String(decoding: response.bodyData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let outcome = HTTPProviderSupport.outcome(forStatus: response.status)
        if outcome == .accepted {
            return .accepted(messageID: Self.messageID(for: message), httpStatus: response.status)
        }
        return ProviderResult(
            outcome: outcome, httpStatus: response.status,
            errorCode: response.status == 403 ? "authorization_failed" : "http_\(response.status)",
            errorMessage: HTTPProviderSupport.safeMessage(
                text.isEmpty ? "Kannel answered HTTP \(response.status)" : text,
                hiding: [message.code, configuration.password.exposed]),
            retryAfterSeconds: outcome == .retryable ? response.retryAfterSeconds : nil)
    }
}
