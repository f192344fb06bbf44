import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTPCore

/// Posts status events to apps' webhooks, signed as the generic provider signs its messages
/// (`StandardWebhookSignature`): `webhook-id`, `webhook-timestamp` (the time of this try) and
/// `webhook-signature`. The client follows no redirect; the whole exchange is bounded by `timeout`
/// and at most 64 KiB of the answer is read (and dropped: only the status counts).
package struct AppWebhookPoster: WebhookPoster {
    let httpClient: HTTPClient
    let timeout: Duration

    package init(httpClient: HTTPClient, timeout: Duration = .seconds(10)) {
        self.httpClient = httpClient
        self.timeout = timeout
    }

    package func post(url: String, webhookID: String, body: String, secret: String) async -> WebhookAnswer {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "otp-webhooks")
        request.headers.add(name: "webhook-id", value: webhookID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: StandardWebhookSignature.sign(id: webhookID, timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(string: body))
        switch await HTTPProviderSupport.execute(request, on: httpClient, timeout: timeout) {
        case .answered(let response): return .status(response.status)
        case .failed(let result): return .failed(reason: result.errorCode ?? "network")
        }
    }
}
