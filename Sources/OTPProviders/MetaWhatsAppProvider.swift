import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTPCore

/// Sends codes over WhatsApp through Meta's Cloud API, as an authentication template with a copy-code button.
///
/// `POST {base}/{version}/{phone-number-id}/messages` with a bearer token. Business-initiated WhatsApp messages
/// must use a template the operator had approved; an authentication template takes the code twice: as the
/// body parameter and as the parameter of its copy-code button (which Meta models as a URL button, index 0).
/// Meta has no idempotency key on this endpoint, so a retry after a timeout can deliver a second message.
package struct MetaWhatsAppProvider: MessageProvider {
    package struct Configuration: Sendable {
        package var accessToken: Secret
        package var phoneNumberID: String
        package var apiVersion: String
        package var baseURL: String
        /// The operator's approved authentication template.
        package var templateName: String
        /// The language the template was approved in (`en`, `en_US`, `pt_BR`...): it must match exactly.
        package var languageCode: String
        package var timeout: Duration

        package init(
            accessToken: String, phoneNumberID: String, apiVersion: String = "v21.0",
            baseURL: String = "https://graph.facebook.com", templateName: String = "otp_code",
            languageCode: String = "en", timeout: Duration = .seconds(10)
        ) {
            self.accessToken = Secret(accessToken)
            self.phoneNumberID = phoneNumberID
            self.apiVersion = apiVersion
            self.baseURL = baseURL
            self.templateName = templateName
            self.languageCode = languageCode
            self.timeout = timeout
        }
    }

    package let name = "meta"
    private let configuration: Configuration
    private let httpClient: HTTPClient

    package init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        guard message.channel == .whatsapp else {
            return ProviderResult(
                outcome: .permanent, errorCode: "unsupported_channel",
                errorMessage: "the Meta provider only carries WhatsApp messages")
        }
        let payload: Data
        do {
            payload = try JSONEncoder().encode(templateMessage(for: message))
        } catch {
            return ProviderResult(
                outcome: .permanent, errorCode: "encoding", errorMessage: "could not encode the WhatsApp request")
        }
        var request = HTTPClientRequest(url: messagesURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken.exposed)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload))

        switch await HTTPProviderSupport.execute(request, on: httpClient, timeout: configuration.timeout) {
        case .failed(let result):
            return result
        case .answered(let response):
            return interpret(response, message: message)
        }
    }

    var messagesURL: String {
        let base = HTTPProviderSupport.trimmedBase(configuration.baseURL)
        let version = HTTPProviderSupport.pathSegment(configuration.apiVersion)
        return "\(base)/\(version)/\(HTTPProviderSupport.pathSegment(configuration.phoneNumberID))/messages"
    }

    /// Meta's examples give the recipient as digits with the country code and no `+`.
    static func recipientDigits(_ recipient: String) -> String {
        recipient.filter { $0.isASCII && $0.isNumber }
    }

    // MARK: - Request body

    /// The Cloud API "send authentication template" body.
    struct TemplateMessage: Encodable {
        var messagingProduct = "whatsapp"
        var recipientType = "individual"
        var to: String
        var type = "template"
        var template: Template

        enum CodingKeys: String, CodingKey {
            case messagingProduct = "messaging_product"
            case recipientType = "recipient_type"
            case to, type, template
        }
    }

    struct Template: Encodable {
        var name: String
        var language: Language
        var components: [Component]
    }

    struct Language: Encodable {
        var code: String
    }

    struct Component: Encodable {
        var type: String
        var subType: String?
        /// A string in Meta's examples, not a number.
        var index: String?
        var parameters: [Parameter]

        enum CodingKeys: String, CodingKey {
            case type, index, parameters
            case subType = "sub_type"
        }
    }

    struct Parameter: Encodable {
        var type = "text"
        var text: String
    }

    func templateMessage(for message: OutboundMessage) -> TemplateMessage {
        TemplateMessage(
            to: Self.recipientDigits(message.recipient),
            template: Template(
                name: message.whatsAppTemplate?.name ?? configuration.templateName,
                language: Language(code: message.whatsAppTemplate?.language ?? configuration.languageCode),
                components: [
                    Component(type: "body", parameters: [Parameter(text: message.code)]),
                    Component(type: "button", subType: "url", index: "0", parameters: [Parameter(text: message.code)]),
                ]))
    }

    // MARK: - Reading the answer

    /// `{"messaging_product":"whatsapp","contacts":[...],"messages":[{"id":"wamid..."}]}`
    private struct Sent: Decodable {
        struct Message: Decodable {
            var id: String?
        }

        var messages: [Message]?
    }

    /// Graph API errors: `{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`.
    private struct ErrorEnvelope: Decodable {
        struct Details: Decodable {
            var details: String?
        }

        struct Body: Decodable {
            var message: String?
            var type: String?
            var code: Int?
            var errorSubcode: Int?
            var errorData: Details?
            var fbtraceID: String?

            enum CodingKeys: String, CodingKey {
                case message, type, code
                case errorSubcode = "error_subcode"
                case errorData = "error_data"
                case fbtraceID = "fbtrace_id"
            }
        }

        var error: Body
    }

    /// Throttling codes: the same request will go through later. Meta often sends these with HTTP 400.
    static let rateLimitCodes: Set<Int> = [
        4,  // app hit its API call limit
        80007,  // WhatsApp Business Account hit its rate limit
        130429,  // Cloud API throughput reached
        131048,  // spam rate limit on this number
        131056,  // too many messages to the same recipient (pair rate limit)
    ]

    /// Errors on Meta's side that say nothing about the request itself.
    static let transientCodes: Set<Int> = [
        1,  // API unknown: possibly a server error
        2,  // API service: temporary downtime or overload
        131000,  // something went wrong
        131016,  // service unavailable
    ]

    /// Errors no retry will fix: bad recipient, bad parameters, bad template, bad credentials or account.
    static let permanentCodes: Set<Int> = [
        0, 3, 10, 100, 190, 200, 368,
        131008,  // required parameter missing
        131009,  // parameter value not valid
        131021,  // recipient is the sender
        131026,  // message undeliverable (not on WhatsApp, old client, terms not accepted)
        131030,  // recipient not in the test allow-list
        131031,  // business account locked
        131042,  // payment problem
        131045,  // phone number not registered / certificate
        131047,  // outside the 24-hour window (not expected for templates)
        131051,  // unsupported message type
        132000,  // template parameter count mismatch
        132001,  // template missing in this language
        132005,  // translated text too long
        132007,  // template format policy violation
        132012,  // parameter format mismatch
        132015,  // template paused
        132016,  // template disabled
        133010,  // phone number not registered
    ]

    func interpret(_ response: ProviderHTTPResponse, message: OutboundMessage) -> ProviderResult {
        let decoder = JSONDecoder()
        var outcome = HTTPProviderSupport.outcome(forStatus: response.status)
        if outcome == .accepted {
            let sent = try? decoder.decode(Sent.self, from: response.bodyData)
            return .accepted(messageID: sent?.messages?.first?.id, httpStatus: response.status)
        }
        let error = (try? decoder.decode(ErrorEnvelope.self, from: response.bodyData))?.error
        if let code = error?.code {
            if Self.rateLimitCodes.contains(code) || Self.transientCodes.contains(code) {
                outcome = .retryable
            } else if Self.permanentCodes.contains(code) {
                outcome = .permanent
            }
        }
        var text = error?.message ?? "Meta answered HTTP \(response.status)"
        if let details = error?.errorData?.details, !details.isEmpty { text += ": \(details)" }
        return ProviderResult(
            outcome: outcome, httpStatus: response.status,
            errorCode: error?.code.map(String.init) ?? "http_\(response.status)",
            errorMessage: HTTPProviderSupport.safeMessage(
                text, hiding: [message.code, configuration.accessToken.exposed]),
            retryAfterSeconds: outcome == .retryable ? response.retryAfterSeconds : nil)
    }
}
