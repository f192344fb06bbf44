import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OTPProviders
import ServiceLifecycle
import Synchronization

/// A stand-in for Twilio's Messages endpoint: a real HTTP server on 127.0.0.1, speaking Twilio's wire format, so
/// that what a test exercises is the real `TwilioProvider` over a real HTTP round trip.
///
/// It checks what Twilio checks (Basic auth, the account in the path, `To`, `Body`, `From` or
/// `MessagingServiceSid`), answers 201 with an `SM...` SID, keeps every accepted message, and honours
/// `I-Twilio-Idempotency-Token`: a token seen before gets the first answer again and nothing new is recorded.
/// Set ``behaviour`` to make it fail.
package final class FakeTwilio: Sendable {
    package typealias Behaviour = FakeVendorBehaviour

    /// One message the fake accepted.
    package struct Message: Sendable, Equatable {
        package var sid: String
        package var to: String
        package var from: String?
        package var messagingServiceSID: String?
        package var body: String?
        package var contentSID: String?
        package var contentVariables: String?
        package var statusCallback: String?
        package var idempotencyToken: String?
    }

    /// One call the fake accepted, with what its TwiML says.
    package struct Call: Sendable, Equatable {
        package var sid: String
        package var to: String
        package var from: String
        package var twiml: String
        /// Each `<Say>`: its language and its text, unescaped.
        package var says: [Say]
        package var statusCallback: String?
        package var idempotencyToken: String?
    }

    package struct Say: Sendable, Equatable {
        package var language: String?
        package var text: String
    }

    package let accountSID: String
    package let authToken: String

    private struct State {
        var port = 0
        var behaviour = Behaviour.normal
        /// What a fetched message cost, as Twilio writes it (negative, in `price_unit`).
        var price = "-0.00790"
        var fetches = 0
        var requestCount = 0
        var messages: [Message] = []
        var calls: [Call] = []
        /// Numbers that are fixed lines: messages to them fail as Twilio's do (21614), calls work.
        var landlines: Set<String> = []
        /// The 201 body first given for each idempotency token.
        var answers: [String: String] = [:]
    }

    private let state = Mutex(State())

    package init(accountSID: String, authToken: String) {
        self.accountSID = accountSID
        self.authToken = authToken
    }

    /// `http://127.0.0.1:PORT`: what `TwilioProvider.Configuration.baseURL` should be.
    package var baseURL: String { "http://127.0.0.1:\(state.withLock { $0.port })" }

    package var behaviour: Behaviour {
        get { state.withLock { $0.behaviour } }
        set { state.withLock { $0.behaviour = newValue } }
    }

    /// Accepted messages, oldest first (repeats of an idempotency token are not in it).
    package var messages: [Message] { state.withLock { $0.messages } }

    /// Accepted calls, oldest first (repeats of an idempotency token are not in it).
    package var calls: [Call] { state.withLock { $0.calls } }

    /// Numbers that cannot get messages (Twilio error 21614, "not a mobile number") but take calls.
    package var landlines: Set<String> {
        get { state.withLock { $0.landlines } }
        set { state.withLock { $0.landlines = newValue } }
    }

    /// The price a fetched message reports (Twilio's form: `"-0.00790"`).
    package var price: String {
        get { state.withLock { $0.price } }
        set { state.withLock { $0.price = newValue } }
    }

    /// Requests for one message's resource.
    package var fetches: Int { state.withLock { $0.fetches } }

    /// Every request that reached the Messages route, whatever the answer.
    package var requestCount: Int { state.withLock { $0.requestCount } }

    /// A provider configuration pointing at this fake, with a short timeout so `.hang` tests stay quick.
    package func configuration(
        from: String? = "+15005550006", messagingServiceSID: String? = nil, whatsAppFrom: String? = "+14155238886",
        voiceFrom: String? = nil, timeout: Duration = .seconds(2)
    ) -> TwilioProvider.Configuration {
        TwilioProvider.Configuration(
            accountSID: accountSID, authToken: authToken, from: from, messagingServiceSID: messagingServiceSID,
            whatsAppFrom: whatsAppFrom, baseURL: baseURL, voiceFrom: voiceFrom, timeout: timeout)
    }

    /// Starts a fake on a free port, runs `body` with it, and stops it.
    package static func run<R: Sendable>(
        accountSID: String = "AC" + FakeVendor.randomHex(bytes: 16),
        authToken: String = FakeVendor.randomHex(bytes: 16),
        _ body: @Sendable (FakeTwilio) async throws -> R
    ) async throws -> R {
        let fake = FakeTwilio(accountSID: accountSID, authToken: authToken)
        let router = Router(context: FakeVendorContext.self)
        router.post("/2010-04-01/Accounts/:accountSID/Messages.json") { request, context in
            try await fake.answer(request, context: context)
        }
        router.post("/2010-04-01/Accounts/:accountSID/Calls.json") { request, context in
            try await fake.answerCall(request, context: context)
        }
        router.get("/2010-04-01/Accounts/:accountSID/Messages/:sid") { request, context in
            fake.fetch(request, context: context)
        }
        return try await FakeVendor.run(name: "fake-twilio", router: router) { port in
            fake.state.withLock { $0.port = port }
            return try await body(fake)
        }
    }

    // MARK: - Answering

    /// What Twilio checks of every create request before reading it (credentials, the account),
    /// and the failures the fake's behaviour scripts: an answer to give instead, or nil to go on.
    private func refusal(_ request: Request, context: FakeVendorContext) async throws -> Response? {
        let behaviour = state.withLock { state in
            state.requestCount += 1
            return state.behaviour
        }
        if let dropped = try await FakeVendor.actOnConnection(behaviour, context) { return dropped }
        guard let credentials = FakeVendor.basicCredentials(request.headers[.authorization]),
            credentials.user == accountSID, credentials.password == authToken
        else {
            return Self.error(
                .unauthorized, code: 20003, message: "Authenticate",
                headers: [.wwwAuthenticate: "Basic realm=\"Twilio API\""])
        }
        guard context.parameters.get("accountSID") == accountSID else {
            return Self.error(
                .notFound, code: 20404, message: "The requested resource \(request.uri.path) was not found")
        }
        switch behaviour {
        case .status500:
            return Self.error(.internalServerError, code: 20500, message: "Internal Server Error")
        case .failRandomly(let fraction) where Double.random(in: 0..<1) < fraction:
            return Self.error(.internalServerError, code: 20500, message: "Internal Server Error")
        case .rateLimited(let seconds):
            return Self.error(
                .tooManyRequests, code: 20429,
                message: "Too many requests. Please retry according to the Retry-After response header.",
                headers: [.retryAfter: String(seconds)])
        default:
            return nil
        }
    }

    private func answer(_ request: Request, context: FakeVendorContext) async throws -> Response {
        if let refusal = try await refusal(request, context: context) { return refusal }
        let behaviour = self.behaviour
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let form = FakeVendor.formFields(buffer)
        guard let to = form["To"], !to.isEmpty else {
            return Self.error(.badRequest, code: 21604, message: "A 'To' phone number is required.")
        }
        let from = form["From"].flatMap { $0.isEmpty ? nil : $0 }
        let service = form["MessagingServiceSid"].flatMap { $0.isEmpty ? nil : $0 }
        guard from != nil || service != nil else {
            return Self.error(
                .badRequest, code: 21603,
                message: "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
        }
        let body = form["Body"]
        let content = form["ContentSid"]
        guard !(body ?? "").isEmpty || !(content ?? "").isEmpty else {
            return Self.error(.badRequest, code: 21602, message: "Message body is required.")
        }
        if behaviour == .invalidNumber || !Self.isValidAddress(to) {
            return Self.error(.badRequest, code: 21211, message: "The 'To' number \(to) is not a valid phone number.")
        }
        if state.withLock({ $0.landlines.contains(to) }) {
            return Self.error(.badRequest, code: 21614, message: "'To' number is not a valid mobile number")
        }
        if let from, to.hasPrefix("whatsapp:") != from.hasPrefix("whatsapp:") {
            return Self.error(
                .badRequest, code: 21910,
                message: "Invalid From and To pair. From and To should be of the same channel")
        }

        let token = request.headers[.twilioIdempotencyToken]
        let message = Message(
            sid: "SM" + FakeVendor.randomHex(bytes: 16), to: to, from: from, messagingServiceSID: service, body: body,
            contentSID: content, contentVariables: form["ContentVariables"], statusCallback: form["StatusCallback"],
            idempotencyToken: token)
        return answerOnce(token: token, Self.created(message, accountSID: accountSID)) { $0.messages.append(message) }
    }

    /// `201` with `json`, `record`ed, unless `token` was seen before: then the first answer again and
    /// nothing recorded, as Twilio honours `I-Twilio-Idempotency-Token`.
    private func answerOnce(token: String?, _ json: String, record: (inout State) -> Void) -> Response {
        let answer = state.withLock { state -> String in
            if let token, let first = state.answers[token] { return first }
            record(&state)
            if let token { state.answers[token] = json }
            return json
        }
        return FakeVendor.json(.created, text: answer)
    }

    /// `POST .../Calls.json`: what Twilio's Calls resource requires of a call with inline TwiML
    /// (`To`, a numeric `From`, exactly one of `Url`, `Twiml` and `ApplicationSid`; TwiML of at most
    /// 4,000 characters that parses), answered 201 with a `CA...` SID in status `queued`.
    private func answerCall(_ request: Request, context: FakeVendorContext) async throws -> Response {
        if let refusal = try await refusal(request, context: context) { return refusal }
        let form = FakeVendor.formFields(try await request.body.collect(upTo: context.maxUploadSize))
        guard let to = form["To"], !to.isEmpty else {
            return Self.error(.badRequest, code: 21201, message: "No 'To' number is specified")
        }
        guard let from = form["From"], !from.isEmpty else {
            return Self.error(.badRequest, code: 21213, message: "No 'From' number is specified")
        }
        let instructions = ["Url", "Twiml", "ApplicationSid"].filter { !(form[$0] ?? "").isEmpty }
        guard instructions.count == 1 else {
            return Self.error(
                .badRequest, code: 21205, message: "Exactly one of Url, Twiml or ApplicationSid is required")
        }
        if behaviour == .invalidNumber || !Self.isValidAddress(to) || to.hasPrefix("whatsapp:") {
            return Self.error(.badRequest, code: 21211, message: "The 'To' number \(to) is not a valid phone number.")
        }
        guard Self.isValidAddress(from), !from.hasPrefix("whatsapp:") else {
            return Self.error(
                .badRequest, code: 21212, message: "The 'From' number \(from) is not a valid phone number")
        }
        guard let twiml = form["Twiml"], twiml.count <= 4000, let says = TwiML.says(in: twiml) else {
            return Self.error(.badRequest, code: 12100, message: "Document parse failure")
        }
        let token = request.headers[.twilioIdempotencyToken]
        let call = Call(
            sid: "CA" + FakeVendor.randomHex(bytes: 16), to: to, from: from, twiml: twiml, says: says,
            statusCallback: form["StatusCallback"], idempotencyToken: token)
        return answerOnce(token: token, Self.created(call, accountSID: accountSID)) { $0.calls.append(call) }
    }

    /// The Call resource as Twilio returns it on create.
    static func created(_ call: Call, accountSID: String) -> String {
        FakeVendor.jsonText([
            "sid": call.sid, "account_sid": accountSID, "to": call.to, "from": call.from, "status": "queued",
            "direction": "outbound-api", "api_version": "2010-04-01", "price": NSNull(), "price_unit": "USD",
            "uri": "/2010-04-01/Accounts/\(accountSID)/Calls/\(call.sid).json",
        ])
    }

    /// `GET .../Messages/{Sid}.json`: the message as Twilio shows it once sent, with its price.
    private func fetch(_ request: Request, context: FakeVendorContext) -> Response {
        guard let credentials = FakeVendor.basicCredentials(request.headers[.authorization]),
            credentials.user == accountSID, credentials.password == authToken
        else { return Self.error(.unauthorized, code: 20003, message: "Authenticate") }
        let sid = context.parameters.get("sid").map { $0.hasSuffix(".json") ? String($0.dropLast(5)) : $0 } ?? ""
        let (message, price) = state.withLock { state in
            state.fetches += 1
            return (state.messages.first { $0.sid == sid }, state.price)
        }
        guard context.parameters.get("accountSID") == accountSID, let message else {
            return Self.error(
                .notFound, code: 20404, message: "The requested resource \(request.uri.path) was not found")
        }
        var object =
            (try? JSONSerialization.jsonObject(with: Data(Self.created(message, accountSID: accountSID).utf8)))
            as? [String: Any] ?? [:]
        (object["status"], object["price"]) = ("delivered", price)
        return FakeVendor.json(.ok, text: FakeVendor.jsonText(object))
    }

    /// E.164 (`+` and 8 to 15 digits, no leading zero), optionally behind `whatsapp:`.
    package static func isValidAddress(_ address: String) -> Bool {
        let number = address.hasPrefix("whatsapp:") ? String(address.dropFirst("whatsapp:".count)) : address
        guard number.hasPrefix("+") else { return false }
        let digits = number.dropFirst()
        return (8...15).contains(digits.count) && digits.first != "0"
            && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Twilio's error body, e.g. `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`.
    package static func error(
        _ status: HTTPResponse.Status, code: Int, message: String, headers: HTTPFields = [:]
    ) -> Response {
        FakeVendor.json(
            status,
            [
                "code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)",
                "status": status.code,
            ], headers: headers)
    }

    /// The Message resource as Twilio returns it on create.
    package static func created(_ message: Message, accountSID: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let now = formatter.string(from: Date())
        let object: [String: Any] = [
            "sid": message.sid, "account_sid": accountSID, "to": message.to, "from": FakeVendor.orNull(message.from),
            "messaging_service_sid": FakeVendor.orNull(message.messagingServiceSID), "body": message.body ?? "",
            "status": message.messagingServiceSID == nil ? "queued" : "accepted", "num_segments": "1",
            "num_media": "0", "direction": "outbound-api", "api_version": "2010-04-01", "price": NSNull(),
            "price_unit": "USD", "error_code": NSNull(), "error_message": NSNull(), "date_created": now,
            "date_updated": now, "date_sent": NSNull(),
            "uri": "/2010-04-01/Accounts/\(accountSID)/Messages/\(message.sid).json",
        ]
        return FakeVendor.jsonText(object)
    }
}

extension HTTPField.Name {
    // A literal name of a valid token: the failable initialiser cannot fail on it.
    // swift-format-ignore: NeverForceUnwrap
    package static let twilioIdempotencyToken = Self("I-Twilio-Idempotency-Token")!
}

// MARK: - Shared by the fake vendors (FakeTwilio, FakeMeta)

/// How a fake vendor misbehaves. Tests change it between requests through the fake's `behaviour`.
package enum FakeVendorBehaviour: Sendable, Equatable {
    /// Validate and answer like the vendor.
    case normal
    /// Answer 500 to about this fraction (0...1) of requests, normally to the rest.
    case failRandomly(fraction: Double)
    /// Answer 500 to every request.
    case status500
    /// Answer 429 with `Retry-After` and the vendor's rate-limit error.
    case rateLimited(retryAfter: Int)
    /// Sleep this long, then carry on normally, recording the message: a client that gave up in the meantime
    /// saw a timeout although the vendor took the message ("maybe delivered").
    case hang(seconds: Double)
    /// Close the TCP connection without answering: the client sees the connection drop mid-request.
    case closeConnection
    /// Answer the vendor's "invalid recipient" error.
    case invalidNumber
}

/// A request context that keeps the connection's channel, so a fake can drop a connection on purpose.
package struct FakeVendorContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package let channel: any NIOCore.Channel

    package init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

package enum FakeVendor {
    package struct DidNotStart: Error, CustomStringConvertible {
        package var description: String
    }

    /// Serves `router` on 127.0.0.1 at a port the system picks, runs `body` with that port, then stops the server.
    package static func run<R: Sendable>(
        name: String, router: Router<FakeVendorContext>, _ body: @Sendable (Int) async throws -> R
    ) async throws -> R {
        var logger = Logger(label: name)
        logger.logLevel = .error
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { portSink.yield(port) }
                portSink.finish()
            },
            logger: logger)
        let services = ServiceGroup(services: [app], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await services.run()
            }
            var bound: Int?
            for await port in ports {
                bound = port
                break
            }
            guard let port = bound else {
                // The server stopped before listening: surface its error if it threw one.
                _ = try await group.next()
                throw DidNotStart(description: "\(name) did not start listening")
            }
            // Cancelling as well as shutting down: a `.hang` handler would otherwise hold shutdown up.
            defer { group.cancelAll() }
            let result: Result<R, any Error>
            do {
                result = .success(try await body(port))
            } catch {
                result = .failure(error)
            }
            await services.triggerGracefulShutdown()
            // Let the server stop by itself first (cancelling it while it accepts a connection trips
            // an assertion in NIO's async writer); cancel only one a hanging handler holds up.
            group.addTask { try await Task.sleep(for: .seconds(2)) }
            _ = try? await group.next()
            return try result.get()
        }
    }

    /// The behaviours that act before a request is read: a dropped connection (its response, never
    /// written), or a hang before answering. nil to go on answering.
    package static func actOnConnection(_ behaviour: FakeVendorBehaviour, _ context: FakeVendorContext) async throws
        -> Response?
    {
        switch behaviour {
        case .closeConnection:
            return await dropConnection(context)
        case .hang(let seconds):
            try await Task.sleep(for: .seconds(seconds))
            return nil
        default:
            return nil
        }
    }

    /// Closes the connection under a request. The returned response is never written: the channel is gone,
    /// and Hummingbird's failed write ends that connection's handler quietly.
    package static func dropConnection(_ context: FakeVendorContext) async -> Response {
        try? await context.channel.close()
        return Response(status: .internalServerError)
    }

    /// The user and password of an `Authorization: Basic ...` header.
    package static func basicCredentials(_ header: String?) -> (user: String, password: String)? {
        guard let header, header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst("Basic ".count))),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// An `application/x-www-form-urlencoded` body as a dictionary (the first value of a repeated name wins).
    package static func formFields(_ buffer: ByteBuffer) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decodeFormComponent(parts[0])
            let value = parts.count > 1 ? decodeFormComponent(parts[1]) : ""
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }

    private static func decodeFormComponent(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// A JSON `null` where Swift has nil, for `JSONSerialization`.
    package static func orNull(_ value: String?) -> Any {
        if let value { return value }
        return NSNull()
    }

    package static func jsonText(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    package static func json(_ status: HTTPResponse.Status, _ object: [String: Any], headers: HTTPFields = [:])
        -> Response
    {
        json(status, text: jsonText(object), headers: headers)
    }

    package static func json(_ status: HTTPResponse.Status, text: String, headers: HTTPFields = [:]) -> Response {
        var all = headers
        all[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: all, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Lowercase hex of `bytes` random bytes: Twilio SIDs are a prefix and 32 of these characters.
    package static func randomHex(bytes: Int) -> String {
        (0..<bytes).map { _ in
            let byte = UInt8.random(in: .min ... .max)
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
