import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTPCore

/// Sends SMS and WhatsApp messages through Twilio Programmable Messaging (the 2010-04-01 Messages
/// resource), and places voice calls that read the code through Programmable Voice (the Calls resource).
///
/// `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json` (or `Calls.json` with inline `Twiml`),
/// form-encoded, HTTP Basic auth with the Account SID and Auth Token. Every attempt of one delivery
/// carries the same `I-Twilio-Idempotency-Token`, so a retry after a timeout need not put a second
/// code on the recipient's phone.
package struct TwilioProvider: MessageProvider {
    package struct Configuration: Sendable {
        package var accountSID: String
        package var authToken: Secret
        /// Default SMS sender (E.164 number or alphanumeric ID); an app's own sender name wins over it.
        package var from: String?
        /// Messaging Service to send through; Twilio picks the sender from its pool when no `From` is given.
        package var messagingServiceSID: String?
        /// The WhatsApp-enabled sender number, E.164, with or without the `whatsapp:` prefix.
        package var whatsAppFrom: String?
        package var baseURL: String
        package var statusCallbackURL: String?
        /// An approved Content template (`HX...`) for WhatsApp, with the code as variable `1`.
        ///
        /// WhatsApp only allows free-form text inside a 24-hour session the user opened; a code sent cold
        /// needs a template (Twilio error 63016 otherwise). When nil, WhatsApp messages carry `Body`.
        package var whatsAppContentSID: String?
        /// The caller ID of voice calls: a Twilio number or a verified caller ID, E.164. Without it, an
        /// E.164 `from`.
        package var voiceFrom: String?
        package var timeout: Duration

        package init(
            accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil,
            whatsAppFrom: String? = nil, baseURL: String = "https://api.twilio.com", statusCallbackURL: String? = nil,
            whatsAppContentSID: String? = nil, voiceFrom: String? = nil, timeout: Duration = .seconds(10)
        ) {
            self.voiceFrom = voiceFrom
            self.accountSID = accountSID
            self.authToken = Secret(authToken)
            self.from = from
            self.messagingServiceSID = messagingServiceSID
            self.whatsAppFrom = whatsAppFrom
            self.baseURL = baseURL
            self.statusCallbackURL = statusCallbackURL
            self.whatsAppContentSID = whatsAppContentSID
            self.timeout = timeout
        }
    }

    package let name = "twilio"
    private let configuration: Configuration
    private let httpClient: HTTPClient

    package init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    package func send(_ message: OutboundMessage) async -> ProviderResult {
        let fields: [FormField]
        switch formFields(for: message) {
        case .success(let built): fields = built
        case .failure(let problem): return problem.result
        }
        var request = HTTPClientRequest(url: message.channel == .voice ? callsURL : messagesURL)
        request.method = .POST
        request.setBasicAuth(username: configuration.accountSID, password: configuration.authToken.exposed)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "I-Twilio-Idempotency-Token", value: message.idempotencyToken)
        request.body = .bytes(ByteBuffer(string: HTTPProviderSupport.formURLEncoded(fields)))

        switch await HTTPProviderSupport.execute(request, on: httpClient, timeout: configuration.timeout) {
        case .failed(let result):
            return result
        case .answered(let response):
            return interpret(response, message: message)
        }
    }

    /// What Twilio billed for a message it took, once it knows (`GET .../Messages/{Sid}.json`,
    /// `price` negative in `price_unit`); nil while the price is null or the call failed.
    package func billedPrice(messageSID: String) async -> (price: Decimal, currency: String)? {
        let base = HTTPProviderSupport.trimmedBase(configuration.baseURL)
        var request = HTTPClientRequest(
            url: "\(base)/2010-04-01/Accounts/\(HTTPProviderSupport.pathSegment(configuration.accountSID))/Messages/"
                + "\(HTTPProviderSupport.pathSegment(messageSID)).json")
        request.setBasicAuth(username: configuration.accountSID, password: configuration.authToken.exposed)
        request.headers.add(name: "Accept", value: "application/json")
        guard
            case .answered(let response) = await HTTPProviderSupport.execute(
                request, on: httpClient, timeout: configuration.timeout),
            response.status == 200,
            let billed = (try? JSONDecoder().decode(CreatedMessage.self, from: response.bodyData))?.billed
        else { return nil }
        return billed
    }

    var messagesURL: String { accountURL + "/Messages.json" }
    var callsURL: String { accountURL + "/Calls.json" }

    private var accountURL: String {
        let base = HTTPProviderSupport.trimmedBase(configuration.baseURL)
        return "\(base)/2010-04-01/Accounts/\(HTTPProviderSupport.pathSegment(configuration.accountSID))"
    }

    /// A send that cannot even be attempted: the operator's configuration lacks a sender for this channel.
    struct ConfigurationProblem: Error {
        var result: ProviderResult
    }

    typealias FormField = (name: String, value: String)

    /// The form parameters of the Messages resource, in Twilio's own (case-sensitive) names.
    func formFields(for message: OutboundMessage) -> Result<[FormField], ConfigurationProblem> {
        var fields: [FormField] = []
        switch message.channel {
        case .sms:
            fields.append(("To", message.recipient))
            if let service = configuration.messagingServiceSID {
                // With a service, From is only needed to pin one sender of its pool: the app's own choice.
                fields.append(("MessagingServiceSid", service))
                if let sender = message.sender { fields.append(("From", sender)) }
            } else if let sender = message.sender ?? configuration.from {
                fields.append(("From", sender))
            } else {
                return .failure(
                    Self.missingSender("no Twilio SMS sender: set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"))
            }
            fields.append(("Body", message.body))
        case .whatsapp:
            // An app's sender name is an SMS notion; WhatsApp needs the registered business number.
            fields.append(("To", Self.whatsAppAddress(message.recipient)))
            if let number = configuration.whatsAppFrom {
                fields.append(("From", Self.whatsAppAddress(number)))
            } else if let service = configuration.messagingServiceSID {
                fields.append(("MessagingServiceSid", service))
            } else {
                return .failure(Self.missingSender("no Twilio WhatsApp sender: set TWILIO_WHATSAPP_FROM"))
            }
            if let content = configuration.whatsAppContentSID {
                fields.append(("ContentSid", content))
                fields.append(("ContentVariables", Self.contentVariables(code: message.code)))
            } else {
                fields.append(("Body", message.body))
            }
        case .voice:
            // A call's caller ID must be a number: an app's alphanumeric sender name cannot call.
            let numbers = [message.sender, configuration.voiceFrom, configuration.from].compactMap { $0 }
            guard let caller = numbers.first(where: { $0.hasPrefix("+") }) else {
                return .failure(Self.missingSender("no Twilio caller ID for voice: set TWILIO_VOICE_FROM"))
            }
            fields.append(("To", message.recipient))
            fields.append(("From", caller))
            let script =
                message.voiceScript ?? VoiceScript(language: "en-US", sentences: [message.body, message.body])
            fields.append(("Twiml", Self.twiml(script)))
        }
        if let callback = configuration.statusCallbackURL {
            fields.append(("StatusCallback", callback))
        }
        return .success(fields)
    }

    /// The call's instructions: each sentence said in the script's language, a pause between them.
    package static func twiml(_ script: VoiceScript) -> String {
        let language = MarkupEscaping.escaped(script.language)
        let says = script.sentences.map { "<Say language=\"\(language)\">\(MarkupEscaping.escaped($0))</Say>" }
        return "<Response>" + says.joined(separator: "<Pause length=\"1\"/>") + "</Response>"
    }

    static func whatsAppAddress(_ number: String) -> String {
        number.hasPrefix("whatsapp:") ? number : "whatsapp:" + number
    }

    /// `{"1":"<code>"}`: the JSON object Twilio expects in `ContentVariables`.
    static func contentVariables(code: String) -> String {
        let data = (try? JSONEncoder().encode(["1": code])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static func missingSender(_ text: String) -> ConfigurationProblem {
        ConfigurationProblem(
            result: ProviderResult(outcome: .permanent, errorCode: "configuration", errorMessage: text))
    }

    // MARK: - Reading the answer

    /// The Message resource Twilio returns on 201: its SID, and its price once Twilio knows it
    /// (`price` is a negative decimal string, the amount billed, in `price_unit`; often null at
    /// creation).
    private struct CreatedMessage: Decodable {
        var sid: String?
        var price: String?
        var priceUnit: String?

        enum CodingKeys: String, CodingKey {
            case sid, price
            case priceUnit = "price_unit"
        }

        /// The amount billed (positive) and its currency, once Twilio has priced the message.
        var billed: (price: Decimal, currency: String)? {
            guard let price, let amount = Decimal(string: price, locale: Locale(identifier: "en_US_POSIX")),
                let priceUnit, priceUnit.count == 3
            else { return nil }
            return (abs(amount), priceUnit.uppercased())
        }
    }

    /// Twilio's error body: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
    private struct ErrorBody: Decodable {
        var code: Int?
        var message: String?
        var moreInfo: String?
        var status: Int?

        enum CodingKeys: String, CodingKey {
            case code, message, status
            case moreInfo = "more_info"
        }
    }

    /// Twilio codes that no retry will fix, whatever HTTP status carried them.
    static let permanentErrorCodes: Set<Int> = [
        21211,  // invalid 'To' number
        21408,  // permission to send to this region not enabled
        21606,  // 'From' number cannot send SMS
        21608,  // unverified 'To' on a trial account
        21610,  // recipient replied STOP
        21612,  // 'To' not reachable from this 'From'
        21614,  // 'To' is not a mobile number
        21660,  // 'From' does not belong to the account
        63003,  // WhatsApp: invalid 'To'
        63007,  // WhatsApp: no channel with this 'From'
        63016,  // WhatsApp: free-form text outside the 24-hour window
        13224,  // voice: the 'To' number is not a valid number to call
        13227,  // voice: no international calling permission for this destination
        21210,  // voice: the caller ID is not a verified number of the account
        21215,  // voice: geographic permission for this region not enabled
        21217,  // voice: the 'To' number is not a valid phone number
    ]

    /// Twilio codes that say "later", whatever HTTP status carried them.
    static let retryableErrorCodes: Set<Int> = [
        20429,  // too many concurrent requests: never processed, safe to retry
        20500,  // internal error
        20503,  // service unavailable
    ]

    func interpret(_ response: ProviderHTTPResponse, message: OutboundMessage) -> ProviderResult {
        let decoder = JSONDecoder()
        var outcome = HTTPProviderSupport.outcome(forStatus: response.status)
        if outcome == .accepted {
            let created = try? decoder.decode(CreatedMessage.self, from: response.bodyData)
            var result = ProviderResult.accepted(messageID: created?.sid, httpStatus: response.status)
            if let billed = created?.billed { (result.price, result.priceCurrency) = billed }
            return result
        }
        let error = try? decoder.decode(ErrorBody.self, from: response.bodyData)
        if let code = error?.code {
            if Self.permanentErrorCodes.contains(code) {
                outcome = .permanent
            } else if Self.retryableErrorCodes.contains(code) {
                outcome = .retryable
            }
        }
        let text = HTTPProviderSupport.safeMessage(
            error?.message ?? "Twilio answered HTTP \(response.status)",
            hiding: [message.code, configuration.authToken.exposed])
        return ProviderResult(
            outcome: outcome, httpStatus: response.status,
            errorCode: error?.code.map(String.init) ?? "http_\(response.status)", errorMessage: text,
            retryAfterSeconds: outcome == .retryable ? response.retryAfterSeconds : nil)
    }
}
