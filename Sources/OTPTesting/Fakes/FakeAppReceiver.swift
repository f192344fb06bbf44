import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// An app's webhook endpoint: a real HTTP server on 127.0.0.1 that checks every request the way a
/// Standard Webhooks receiver must (its own check, not the service's signing code): `webhook-id`,
/// `webhook-timestamp` within five minutes of now, and a `v1,` entry of `webhook-signature` equal to
/// the base64 HMAC-SHA256 of `id.timestamp.body` under the secret's base64-decoded bytes. A request
/// that fails the check answers 401 and is counted. `failingFirstTries` makes that fraction of the
/// events' first tries answer 500 (every other one at 0.5); `hold` keeps answers back (tries in
/// flight), and a try held when `hold` changes is dropped unanswered, as if its sender had died.
package final class FakeAppReceiver: Sendable {
    /// One event the receiver took (answered 2xx), in arrival order.
    package struct Event: Sendable, Equatable {
        package var webhookID: String
        package var type: String
        package var timestamp: String
        package var data: [String: String]
        /// The tries of this `webhook-id` that reached the receiver, this one included.
        package var tries: Int
    }

    private struct State {
        var port = 0
        var secret = ""
        var failingFirstTries = 0.0
        var hold: Duration?
        var holdGeneration = 0
        var firstTriesSeen = 0
        var arrivals: [String] = []
        var tries: [String: Int] = [:]
        var refusedFirstTries: Set<String> = []
        var events: [Event] = []
        var badSignatures = 0
        var requestCount = 0
    }

    private let state = Mutex(State())

    /// `http://127.0.0.1:PORT/hooks/otp`.
    package var url: String { "http://127.0.0.1:\(state.withLock { $0.port })/hooks/otp" }

    /// The signing secret (`whsec_...`) the service printed.
    package var secret: String {
        get { state.withLock { $0.secret } }
        set { state.withLock { $0.secret = newValue } }
    }

    package var failingFirstTries: Double {
        get { state.withLock { $0.failingFirstTries } }
        set { state.withLock { $0.failingFirstTries = newValue } }
    }

    package var hold: Duration? {
        get { state.withLock { $0.hold } }
        set {
            state.withLock { state in
                state.hold = newValue
                state.holdGeneration += 1
            }
        }
    }

    /// The `webhook-id` of every request, in arrival order, before any check or hold.
    package var arrivals: [String] { state.withLock { $0.arrivals } }

    package var events: [Event] { state.withLock { $0.events } }
    package var badSignatures: Int { state.withLock { $0.badSignatures } }
    package var requestCount: Int { state.withLock { $0.requestCount } }
    /// The `webhook-id`s whose first try was answered 500.
    package var refusedFirstTries: Set<String> { state.withLock { $0.refusedFirstTries } }

    package static func run<R: Sendable>(_ body: @Sendable (FakeAppReceiver) async throws -> R) async throws -> R {
        let receiver = FakeAppReceiver()
        let router = Router(context: FakeVendorContext.self)
        router.post("/hooks/otp") { request, context in try await receiver.answer(request, context: context) }
        return try await FakeVendor.run(name: "fake-app-receiver", router: router) { port in
            receiver.state.withLock { $0.port = port }
            return try await body(receiver)
        }
    }

    private func answer(_ request: Request, context: FakeVendorContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let bytes = Data(body.readableBytesView)
        let header = { (name: String) in HTTPField.Name(name).flatMap { request.headers[$0] } }
        let (secret, hold, generation) = state.withLock { state in
            state.requestCount += 1
            state.arrivals.append(header("webhook-id") ?? "")
            return (state.secret, state.hold, state.holdGeneration)
        }
        if let hold {
            try await Task.sleep(for: hold)
            if state.withLock({ $0.holdGeneration != generation }) { return Response(status: .serviceUnavailable) }
        }
        guard let id = header("webhook-id"), let timestampText = header("webhook-timestamp"),
            let signatures = header("webhook-signature"),
            Self.isSigned(id: id, timestamp: timestampText, signatures: signatures, body: bytes, secret: secret)
        else {
            state.withLock { $0.badSignatures += 1 }
            return Response(status: .unauthorized)
        }
        let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] ?? [:]
        let refuse = state.withLock { state -> Bool in
            state.tries[id, default: 0] += 1
            guard state.tries[id] == 1 else { return false }
            // Deterministic: the n-th first try is refused when it takes the refused count past n × fraction.
            let seen = Double(state.firstTriesSeen)
            state.firstTriesSeen += 1
            guard
                ((seen + 1) * state.failingFirstTries).rounded(.down) > (seen * state.failingFirstTries).rounded(.down)
            else { return false }
            state.refusedFirstTries.insert(id)
            return true
        }
        if refuse { return Response(status: .internalServerError) }
        let data = (object["data"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        state.withLock { state in
            state.events.append(
                Event(
                    webhookID: id, type: object["type"] as? String ?? "",
                    timestamp: object["timestamp"] as? String ?? "",
                    data: data, tries: state.tries[id] ?? 0))
        }
        return Response(status: .noContent)
    }

    /// The Standard Webhooks check, written from the specification.
    static func isSigned(id: String, timestamp: String, signatures: String, body: Data, secret: String) -> Bool {
        guard let seconds = Double(timestamp), abs(Date().timeIntervalSince1970 - seconds) < 300,
            secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6)))
        else { return false }
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return signatures.split(separator: " ").contains { entry in
            guard entry.hasPrefix("v1,"), let mac = Data(base64Encoded: String(entry.dropFirst(3))) else {
                return false
            }
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: content, using: SymmetricKey(data: key))
        }
    }
}
