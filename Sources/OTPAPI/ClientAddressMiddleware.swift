import Foundation
import HTTPTypes
import Hummingbird

/// The client's IP for limits and the audit trail: the socket's peer, or, when that peer is one of
/// the operator's trusted proxies (`OTP_TRUSTED_PROXIES`), the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy. A client cannot choose its own address by
/// sending the header: from an untrusted peer the header is ignored.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    let trustedProxies: TrustedProxies

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let peer = context.remoteAddress?.ipAddress, trustedProxies.contains(peer) else {
            return try await next(request, context)
        }
        var context = context
        let hops = request.headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        context.forwardedFor = hops.reversed().first { !trustedProxies.contains($0) } ?? peer
        return try await next(request, context)
    }
}

/// Exact addresses, and IPv4 networks in CIDR form (`10.0.0.0/8`).
public struct TrustedProxies: Sendable {
    let addresses: Set<String>
    let networks: [(base: UInt32, mask: UInt32)]

    public static let none = TrustedProxies("")

    public init(_ list: String) {
        var addresses: Set<String> = []
        var networks: [(UInt32, UInt32)] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/")
            if parts.count == 2, let base = Self.ipv4(String(parts[0])), let bits = UInt32(parts[1]), bits <= 32 {
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
                networks.append((base & mask, mask))
            } else {
                addresses.insert(entry)
            }
        }
        self.addresses = addresses
        self.networks = networks
    }

    func contains(_ address: String) -> Bool {
        if addresses.contains(address) { return true }
        guard let value = Self.ipv4(address) else { return false }
        return networks.contains { value & $0.mask == $0.base }
    }

    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 <= 255 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }
}

extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let xForwardedFor = Self("X-Forwarded-For")!
}
