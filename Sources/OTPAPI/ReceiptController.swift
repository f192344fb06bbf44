import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
import OTPCore
import OTPHTTP

/// What the receipt routes need to check the vendors' signatures; a vendor left unset has no route.
package struct ReceiptSettings: Sendable {
    /// Twilio's auth token, and the exact public URL given to Twilio as `StatusCallback`.
    package var twilioAuthToken: Secret?
    package var twilioCallbackURL: String?
    /// Meta's app secret (signatures) and the verify token of the subscription handshake.
    package var metaAppSecret: Secret?
    package var metaVerifyToken: Secret?
    /// The secret of the tokens in Kannel's receipt URLs (`ReceiptToken`).
    package var kannelReceiptSecret: Secret?

    package init(
        twilioAuthToken: String? = nil, twilioCallbackURL: String? = nil, metaAppSecret: String? = nil,
        metaVerifyToken: String? = nil, kannelReceiptSecret: String? = nil
    ) {
        self.kannelReceiptSecret = kannelReceiptSecret.map { Secret($0) }
        self.twilioAuthToken = twilioAuthToken.map { Secret($0) }
        self.twilioCallbackURL = twilioCallbackURL
        self.metaAppSecret = metaAppSecret.map { Secret($0) }
        self.metaVerifyToken = metaVerifyToken.map { Secret($0) }
    }
}

/// `POST /webhooks/twilio/status`, `GET|POST /webhooks/meta`, `GET /webhooks/kannel/status`:
/// delivery receipts from the vendors.
/// A request whose signature does not check out is refused with 401 and changes nothing.
struct ReceiptController {
    let settings: ReceiptSettings
    let receipts: any DeliveryReceiptStore

    func addRoutes(to router: Router<OTPRequestContext>) {
        router.post("webhooks/twilio/status", use: twilioStatus)
        router.get("webhooks/meta", use: metaHandshake)
        router.post("webhooks/meta", use: metaStatus)
        router.get("webhooks/kannel/status", use: kannelStatus)
    }

    /// Kannel's delivery report: the URL `KannelProvider` gave it, with the report's type in
    /// `type` (1 delivered, 2 not delivered, 16 refused by the SMSC; 4 and 8, queued and accepted
    /// by the SMSC, say nothing new).
    @Sendable func kannelStatus(request: Request, context: OTPRequestContext) async throws -> Response {
        guard let secret = settings.kannelReceiptSecret else { throw APIError.notFound }
        let query = request.uri.queryParameters
        guard let messageID = query["message"].map(String.init), let token = query["token"].map(String.init),
            ReceiptToken.matches(token, messageID: messageID, secret: secret.exposed)
        else { throw APIError.unauthorized }
        guard let typeText = query["type"], let type = Int(typeText) else {
            throw APIError.validation("type", "type must be Kannel's report type, a number")
        }
        let outcome: DeliveryReceipt.Outcome? =
            switch type {
            case 1: .delivered
            case 2, 16: .failed
            default: nil
            }
        if let outcome {
            _ = try await receipts.record(
                DeliveryReceipt(
                    provider: "kannel", providerMessageID: messageID, outcome: outcome,
                    errorCode: outcome == .failed ? "kannel_report_\(type)" : nil))
        }
        return Response(status: .noContent)
    }

    @Sendable func twilioStatus(request: Request, context: OTPRequestContext) async throws -> Response {
        guard let token = settings.twilioAuthToken, let url = settings.twilioCallbackURL else {
            throw APIError.notFound
        }
        let body = try await JSONBody.read(request)
        let parameters = FormBody.parse(String(buffer: body))
        let expected = WebhookSignatures.twilio(url: url, parameters: parameters, authToken: token.exposed)
        guard WebhookSignatures.matches(request.headers[.twilioSignature], expected) else {
            throw APIError.unauthorized
        }
        let fields = Dictionary(parameters, uniquingKeysWith: { first, _ in first })
        let receipt: DeliveryReceipt?
        if let sid = fields["MessageSid"], let status = fields["MessageStatus"] {
            receipt = Self.twilioMessageOutcome(status).map {
                DeliveryReceipt(provider: "twilio", providerMessageID: sid, outcome: $0, errorCode: fields["ErrorCode"])
            }
        } else if let sid = fields["CallSid"], let status = fields["CallStatus"] {
            receipt = Self.twilioCallOutcome(status).map {
                DeliveryReceipt(
                    provider: "twilio", providerMessageID: sid, outcome: $0,
                    errorCode: $0 == .failed ? "call_\(status)" : nil)
            }
        } else {
            throw APIError.validation(
                "MessageSid", "MessageSid and MessageStatus (or CallSid and CallStatus) are required")
        }
        if let receipt { _ = try await receipts.record(receipt) }
        return Response(status: .noContent)
    }

    /// A message's status: nil for the ones on the way (queued, sending, sent), nothing new to us.
    static func twilioMessageOutcome(_ status: String) -> DeliveryReceipt.Outcome? {
        switch status {
        case "delivered", "read": .delivered
        case "failed", "undelivered": .failed
        default: nil
        }
    }

    /// A call's status: `completed` means someone answered and heard the code; a call that ended
    /// any other way reached nobody. nil for the ones on the way (queued, ringing, in-progress).
    static func twilioCallOutcome(_ status: String) -> DeliveryReceipt.Outcome? {
        switch status {
        case "completed": .delivered
        case "busy", "no-answer", "failed", "canceled": .failed
        default: nil
        }
    }

    @Sendable func metaHandshake(request: Request, context: OTPRequestContext) async throws -> Response {
        guard let verifyToken = settings.metaVerifyToken else { throw APIError.notFound }
        let query = request.uri.queryParameters
        guard query["hub.mode"] == "subscribe",
            WebhookSignatures.matches(query["hub.verify_token"].map(String.init), verifyToken.exposed),
            let challenge = query["hub.challenge"]
        else { throw APIError(.forbidden, .forbidden, "verify token mismatch") }
        return Response(
            status: .ok, headers: [.contentType: "text/plain"],
            body: .init(byteBuffer: ByteBuffer(substring: challenge)))
    }

    @Sendable func metaStatus(request: Request, context: OTPRequestContext) async throws -> Response {
        guard let secret = settings.metaAppSecret else { throw APIError.notFound }
        let body = Data(buffer: try await JSONBody.read(request))
        guard
            WebhookSignatures.matches(
                request.headers[.hubSignature], WebhookSignatures.meta(body: body, appSecret: secret.exposed))
        else { throw APIError.unauthorized }
        let notification = try JSONBody.decode(MetaNotification.self, from: ByteBuffer(data: body))
        for entry in notification.entry ?? [] {
            for change in entry.changes ?? [] {
                for status in change.value?.statuses ?? [] {
                    let outcome: DeliveryReceipt.Outcome? =
                        switch status.status {
                        case "delivered", "read": .delivered
                        case "failed": .failed
                        default: nil
                        }
                    guard let outcome, let id = status.id else { continue }
                    _ = try await receipts.record(
                        DeliveryReceipt(
                            provider: "meta", providerMessageID: id, outcome: outcome,
                            errorCode: status.errors?.first?.code.map(String.init)))
                }
            }
        }
        return Response(status: .ok)
    }
}

/// The parts of a WhatsApp Cloud API webhook notification that carry message statuses.
struct MetaNotification: Decodable {
    struct Entry: Decodable { var changes: [Change]? }
    struct Change: Decodable { var value: Value? }
    struct Value: Decodable { var statuses: [Status]? }
    struct Status: Decodable {
        var id: String?
        var status: String?
        var errors: [StatusError]?
    }
    struct StatusError: Decodable { var code: Int? }

    var entry: [Entry]?
}

/// `application/x-www-form-urlencoded` bodies, in the order given.
enum FormBody {
    static func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    private static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}

extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let twilioSignature = Self("X-Twilio-Signature")!
    // swift-format-ignore: NeverForceUnwrap
    static let hubSignature = Self("X-Hub-Signature-256")!
}
