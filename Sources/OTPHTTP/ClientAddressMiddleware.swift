import Foundation
import HTTPTypes
import Hummingbird
import OTPCore

/// The client's IP for limits and the audit trail: the socket's peer, or, when that peer is one of
/// the operator's trusted proxies (`OTP_TRUSTED_PROXIES`), the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy. A client cannot choose its own address by
/// sending the header: from an untrusted peer the header is ignored, and a header with a hop that
/// is not an IP address before the client's is not believed at all (the peer counts).
package struct ClientAddressMiddleware: RouterMiddleware {
    package typealias Context = OTPRequestContext

    let trustedProxies: TrustedProxies

    package init(trustedProxies: TrustedProxies) { self.trustedProxies = trustedProxies }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let peer = context.remoteAddress?.ipAddress, trustedProxies.contains(peer) else {
            return try await next(request, context)
        }
        var context = context
        let hops = request.headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        context.forwardedFor = Self.client(hops: hops, peer: peer, trusted: trustedProxies)
        context.forwardedProto = request.headers[.xForwardedProto]?.trimmingCharacters(in: .whitespaces).lowercased()
        return try await next(request, context)
    }

    /// Walks the hops from the nearest: trusted proxies are passed, the first other address is the
    /// client; a hop that is no address on the way makes the whole header unbelievable.
    static func client(hops: [String], peer: String, trusted: TrustedProxies) -> String {
        var client = peer
        for hop in hops.reversed() {
            guard IPAddress(hop) != nil else { return peer }
            client = hop
            if !trusted.contains(hop) { break }
        }
        return client
    }
}

/// The operator's load balancers: IPv4 and IPv6 addresses and networks in CIDR form
/// (`10.0.0.0/8`, `fd00::/8`). An entry that is neither is ignored.
package struct TrustedProxies: Sendable {
    let networks: [IPNetwork]

    package static let none = TrustedProxies("")

    package init(_ list: String) {
        networks = list.split(separator: ",").compactMap { IPNetwork($0.trimmingCharacters(in: .whitespaces)) }
    }

    func contains(_ address: String) -> Bool {
        guard let address = IPAddress(address) else { return false }
        return networks.contains { $0.contains(address) }
    }
}

extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let xForwardedFor = Self("X-Forwarded-For")!
    // swift-format-ignore: NeverForceUnwrap
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
