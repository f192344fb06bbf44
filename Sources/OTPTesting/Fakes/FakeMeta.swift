import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OTPProviders
import Synchronization

/// A stand-in for the WhatsApp Cloud API's messages endpoint: a real HTTP server on 127.0.0.1, speaking Meta's
/// wire format, so that a test exercises the real `MetaWhatsAppProvider` over a real HTTP round trip.
///
/// It checks the bearer token, the `/{version}/{phone-number-id}/messages` path and the authentication-template
/// body (`messaging_product`, `to`, `type`, the template's name and language, and the code both as the body
/// parameter and as the copy-code button's parameter), then answers 200 with a `wamid.` id. Meta has no
/// idempotency key, so every accepted request is recorded. Set ``behaviour`` to make it fail.
/// The server plumbing (``FakeVendor``, ``FakeVendorBehaviour``) lives in FakeTwilio.swift.
package final class FakeMeta: Sendable {
    package typealias Behaviour = FakeVendorBehaviour

    /// One template message the fake accepted.
    package struct Message: Sendable, Equatable {
        package var id: String
        package var to: String
        package var templateName: String
        package var languageCode: String
        /// The body component's text parameter.
        package var bodyCode: String
        /// The copy-code (URL) button's text parameter.
        package var buttonCode: String
    }

    package let accessToken: String
    package let phoneNumberID: String
    package let apiVersion: String
    package let templateName: String

    private struct State {
        var port = 0
        var behaviour = Behaviour.normal
        var requestCount = 0
        var messages: [Message] = []
    }

    private let state = Mutex(State())

    package init(accessToken: String, phoneNumberID: String, apiVersion: String, templateName: String) {
        self.accessToken = accessToken
        self.phoneNumberID = phoneNumberID
        self.apiVersion = apiVersion
        self.templateName = templateName
    }

    /// `http://127.0.0.1:PORT`: what `MetaWhatsAppProvider.Configuration.baseURL` should be.
    package var baseURL: String { "http://127.0.0.1:\(state.withLock { $0.port })" }

    package var behaviour: Behaviour {
        get { state.withLock { $0.behaviour } }
        set { state.withLock { $0.behaviour = newValue } }
    }

    /// Accepted messages, oldest first.
    package var messages: [Message] { state.withLock { $0.messages } }

    /// Every request that reached the messages route, whatever the answer.
    package var requestCount: Int { state.withLock { $0.requestCount } }

    /// A provider configuration pointing at this fake, with a short timeout so `.hang` tests stay quick.
    package func configuration(languageCode: String = "en", timeout: Duration = .seconds(2))
        -> MetaWhatsAppProvider.Configuration
    {
        MetaWhatsAppProvider.Configuration(
            accessToken: accessToken, phoneNumberID: phoneNumberID, apiVersion: apiVersion, baseURL: baseURL,
            templateName: templateName, languageCode: languageCode, timeout: timeout)
    }

    /// Starts a fake on a free port, runs `body` with it, and stops it.
    package static func run<R: Sendable>(
        accessToken: String = "EAAG" + FakeVendor.randomHex(bytes: 24),
        phoneNumberID: String = "1065" + String(UInt64.random(in: 10_000_000_000...99_999_999_999)),
        apiVersion: String = "v21.0",
        templateName: String = "otp_code",
        _ body: @Sendable (FakeMeta) async throws -> R
    ) async throws -> R {
        let fake = FakeMeta(
            accessToken: accessToken, phoneNumberID: phoneNumberID, apiVersion: apiVersion, templateName: templateName)
        let router = Router(context: FakeVendorContext.self)
        router.post("/:version/:phoneNumberID/messages") { request, context in
            try await fake.answer(request, context: context)
        }
        return try await FakeVendor.run(name: "fake-meta", router: router) { port in
            fake.state.withLock { $0.port = port }
            return try await body(fake)
        }
    }

    // MARK: - Answering

    private func answer(_ request: Request, context: FakeVendorContext) async throws -> Response {
        let behaviour = state.withLock { state in
            state.requestCount += 1
            return state.behaviour
        }
        if let dropped = try await FakeVendor.actOnConnection(behaviour, context) { return dropped }
        guard request.headers[.authorization] == "Bearer \(accessToken)" else {
            return Self.error(
                .unauthorized, code: 190, message: "Invalid OAuth access token - Cannot parse access token")
        }
        let version = context.parameters.get("version") ?? ""
        guard version == apiVersion else {
            return Self.error(.badRequest, code: 2500, message: "Unknown path components: /\(version)/messages")
        }
        let objectID = context.parameters.get("phoneNumberID") ?? ""
        guard objectID == phoneNumberID else {
            return Self.error(
                .badRequest, code: 100, subcode: 33,
                message: "Unsupported post request. Object with ID '\(objectID)' does not exist, cannot be loaded "
                    + "due to missing permissions, or does not support this operation.")
        }
        switch behaviour {
        case .status500:
            return Self.error(.internalServerError, code: 131000, message: "(#131000) Something went wrong")
        case .failRandomly(let fraction) where Double.random(in: 0..<1) < fraction:
            return Self.error(.internalServerError, code: 131000, message: "(#131000) Something went wrong")
        case .rateLimited(let seconds):
            return Self.error(
                .tooManyRequests, code: 130429, message: "(#130429) Rate limit hit",
                details: "Cloud API message throughput has been reached.", headers: [.retryAfter: String(seconds)])
        default:
            break
        }

        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        guard let object = parsed as? [String: Any] else {
            return Self.error(.badRequest, code: 100, message: "(#100) Invalid parameter", details: "Body is not JSON")
        }
        switch Self.validate(object, templateName: templateName) {
        case .failure(let rejection):
            return rejection.response
        case .success(var message):
            if behaviour == .invalidNumber {
                return Self.error(
                    .badRequest, code: 131026, message: "(#131026) Message undeliverable",
                    details: "Unable to deliver message. The recipient phone number is not a WhatsApp phone number.")
            }
            message.id = "wamid." + FakeVendor.randomHex(bytes: 24).uppercased()
            let accepted = message
            state.withLock { $0.messages.append(accepted) }
            return FakeVendor.json(
                .ok,
                [
                    "messaging_product": "whatsapp",
                    "contacts": [["input": accepted.to, "wa_id": accepted.to.filter(\.isNumber)]],
                    "messages": [["id": accepted.id, "message_status": "accepted"]],
                ])
        }
    }

    /// A rejected request, as the `Response` to send back.
    package struct Rejection: Error {
        package var response: Response
    }

    /// Checks the body of an authentication-template send; returns the message (without its id) or Meta's error.
    package static func validate(_ object: [String: Any], templateName: String) -> Result<Message, Rejection> {
        func reject(_ code: Int, _ message: String, _ details: String, status: HTTPResponse.Status = .badRequest)
            -> Result<Message, Rejection>
        {
            .failure(Rejection(response: Self.error(status, code: code, message: message, details: details)))
        }
        guard object["messaging_product"] as? String == "whatsapp" else {
            return reject(100, "(#100) The parameter messaging_product is required.", "messaging_product")
        }
        guard let to = object["to"] as? String, !to.isEmpty else {
            return reject(131008, "(#131008) Required parameter is missing", "The parameter to is required.")
        }
        let digits = to.hasPrefix("+") ? to.dropFirst() : Substring(to)
        guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return reject(100, "(#100) Invalid parameter", "The parameter to is not a valid phone number.")
        }
        guard object["type"] as? String == "template", let template = object["template"] as? [String: Any] else {
            return reject(131009, "(#131009) Parameter value is not valid", "type must be template")
        }
        let language = (template["language"] as? [String: Any])?["code"] as? String ?? ""
        guard !language.isEmpty else {
            return reject(131008, "(#131008) Required parameter is missing", "template.language.code is required.")
        }
        guard template["name"] as? String == templateName else {
            return reject(
                132001, "(#132001) Template name does not exist in the translation",
                "template name (\(template["name"] as? String ?? "")) does not exist in \(language)",
                status: .notFound)
        }
        let components = template["components"] as? [[String: Any]] ?? []
        let body = components.first { $0["type"] as? String == "body" }
        let button = components.first {
            $0["type"] as? String == "button" && $0["sub_type"] as? String == "url"
                && ($0["index"] as? String == "0" || $0["index"] as? Int == 0)
        }
        guard let bodyCode = firstText(body), let buttonCode = firstText(button) else {
            return reject(
                132000, "(#132000) Number of parameters does not match the expected number of params",
                "an authentication template takes one body parameter and one url button parameter (index 0)")
        }
        guard bodyCode == buttonCode, !bodyCode.isEmpty, bodyCode.count <= 15 else {
            return reject(
                131009, "(#131009) Parameter value is not valid",
                "the one-time password must appear twice, identical, at most 15 characters")
        }
        return .success(
            Message(
                id: "", to: to, templateName: templateName, languageCode: language, bodyCode: bodyCode,
                buttonCode: buttonCode))
    }

    /// The `text` of a component's first parameter, when that parameter is of type text.
    private static func firstText(_ component: [String: Any]?) -> String? {
        guard let parameter = (component?["parameters"] as? [[String: Any]])?.first,
            parameter["type"] as? String == "text"
        else { return nil }
        return parameter["text"] as? String
    }

    /// Graph API's error body: `{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`.
    package static func error(
        _ status: HTTPResponse.Status, code: Int, subcode: Int? = nil, message: String, details: String? = nil,
        headers: HTTPFields = [:]
    ) -> Response {
        var body: [String: Any] = [
            "message": message, "type": "OAuthException", "code": code,
            "fbtrace_id": "A" + FakeVendor.randomHex(bytes: 11),
        ]
        if let subcode { body["error_subcode"] = subcode }
        if let details { body["error_data"] = ["messaging_product": "whatsapp", "details": details] }
        return FakeVendor.json(status, ["error": body], headers: headers)
    }
}
