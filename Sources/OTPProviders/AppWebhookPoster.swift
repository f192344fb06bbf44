import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import OTPCore

/// Posts status events to apps' webhooks, signed as the generic provider signs its messages
/// (`StandardWebhookSignature`): `webhook-id`, `webhook-timestamp` (the time of this try) and
/// `webhook-signature`. The app's owner chose the URL, so before each try the host is resolved
/// once, every address it got is checked by `OutboundGuard`, and the connection goes to a checked
/// address (a client of its own, told that address: no second lookup a rebinding name could
/// answer differently). The client follows no redirect; the whole exchange is bounded by
/// `timeout` and at most 64 KiB of the answer is read (and dropped: only the status counts).
package struct AppWebhookPoster: WebhookPoster {
    let destinations: OutboundDestinations
    let timeout: Duration

    package init(destinations: OutboundDestinations, timeout: Duration = .seconds(10)) {
        self.destinations = destinations
        self.timeout = timeout
    }

    package func post(url: String, webhookID: String, body: String, secret: String) async -> WebhookAnswer {
        let checked: OutboundDestinations.Checked
        switch await destinations.check(url) {
        case .success(let found): checked = found
        case .failure(let refusal) where refusal == OutboundDestinations.unresolved:
            return .failed(reason: "dns")
        case .failure(let refusal): return .refused(refusal)
        }
        guard let connectURL = Self.url(url, pinnedTo: checked) else { return .failed(reason: "invalid_url") }
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: connectURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "otp-webhooks")
        request.headers.add(name: "webhook-id", value: webhookID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: StandardWebhookSignature.sign(id: webhookID, timestamp: timestamp, body: body, secret: secret))
        request.body = .bytes(ByteBuffer(string: body))

        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        // No client spans of its own: they would record the full URL and its query (a vendor's account
        // path, an owner's token); the worker's own spans say what was called and how it went.
        configuration.tracing.tracer = nil
        if checked.target.literal == nil {
            configuration.dnsOverride = [checked.target.host: checked.address.description]
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let exchange = await HTTPProviderSupport.execute(request, on: client, timeout: timeout)
        try? await client.shutdown()
        switch exchange {
        case .answered(let response): return .status(response.status)
        case .failed(let result): return .failed(reason: result.errorCode ?? "network")
        }
    }

    /// The URL with its host written as `OutboundGuard` read it: a name in lower case without a
    /// trailing dot (the key the client's DNS override is looked up by), an address literal in its
    /// plain form (`0x7f.1` would otherwise be read again by the system's resolver).
    static func url(_ url: String, pinnedTo checked: OutboundDestinations.Checked) -> String? {
        guard var parts = URLComponents(string: url) else { return nil }
        if let literal = checked.target.literal {
            parts.host = literal.isIPv6 ? "[\(literal.description)]" : literal.description
        } else {
            parts.host = checked.target.host
        }
        return parts.string
    }
}

/// The system's resolver (`getaddrinfo`, so `/etc/hosts` counts), run off the event loops.
package struct SystemHostResolver: HostResolver {
    package init() {}

    package func addresses(of host: String) async -> [IPAddress] {
        (try? await NIOThreadPool.singleton.runIfActive { Self.lookUp(host) }) ?? []
    }

    static func lookUp(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            guard let socketAddress = entry.pointee.ai_addr else { continue }
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let v4 = UnsafeRawPointer(socketAddress).load(as: sockaddr_in.self)
                found.append(IPAddress(bytes: withUnsafeBytes(of: v4.sin_addr) { Array($0) }))
            case AF_INET6:
                let v6 = UnsafeRawPointer(socketAddress).load(as: sockaddr_in6.self)
                found.append(IPAddress(bytes: withUnsafeBytes(of: v6.sin6_addr) { Array($0) }))
            default: continue
            }
        }
        var seen = Set<IPAddress>()
        return found.filter { seen.insert($0).inserted }
    }
}
