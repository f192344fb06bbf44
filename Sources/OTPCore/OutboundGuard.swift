import Foundation

/// Decides whether `otp` may send a request to an address an app's owner chose (a webhook URL).
/// The owner may be hostile, so the URL may not lead into the operator's own networks: loopback,
/// private, link-local, shared, unspecified, multicast, broadcast and reserved addresses are
/// refused, also when spelled as an IPv4-mapped, NAT64, 6to4 or legacy (`0x7f.1`, `2130706433`)
/// form. Networks the operator lists (`OTP_WEBHOOK_ALLOWED_NETWORKS`) are exempt and may take
/// plain `http`. The form checks here are pure; resolving names is `OutboundDestinations`' job.
package struct OutboundGuard: Sendable {
    /// Where a URL points, once its form passed.
    package struct Target: Sendable, Equatable {
        package var scheme: String
        /// Lower case, without brackets or a trailing dot.
        package var host: String
        /// Set when the host is an address literal (in any spelling); nil for a name to resolve.
        package var literal: IPAddress?
    }

    package let allowedNetworks: [IPNetwork]

    package init(allowedNetworks: [IPNetwork] = []) {
        self.allowedNetworks = allowedNetworks
    }

    /// Reads `OTP_WEBHOOK_ALLOWED_NETWORKS`: comma-separated CIDRs; throws naming the first bad entry.
    package init(allowedNetworks text: String) throws(OutboundRefusal) {
        var networks: [IPNetwork] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !entry.isEmpty {
            guard let network = IPNetwork(entry) else {
                throw OutboundRefusal("\(entry) is not a CIDR such as 10.0.0.0/8")
            }
            networks.append(network)
        }
        self.init(allowedNetworks: networks)
    }

    /// The URL's target, or why it may not be used, judged on its text alone.
    package func target(of url: String) -> Result<Target, OutboundRefusal> {
        guard url.utf8.count <= 2000, let parts = URLComponents(string: url), let rawHost = parts.host,
            !rawHost.isEmpty
        else {
            return .failure(.init("the webhook URL must be an absolute https URL of at most 2000 characters"))
        }
        guard parts.user == nil, parts.password == nil, parts.fragment == nil else {
            return .failure(.init("the webhook URL may carry no user, password or fragment"))
        }
        let scheme = parts.scheme?.lowercased() ?? ""
        guard scheme == "https" || scheme == "http" else {
            return .failure(.init("the webhook URL must be https"))
        }
        var host = rawHost.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host = String(host.dropLast()) }
        guard !host.isEmpty, !host.contains("%"), !host.hasSuffix(".") else {
            return .failure(.init("the webhook URL's host is not a valid host name"))
        }
        var target = Target(scheme: scheme, host: host, literal: nil)
        if host.contains(":") {
            guard let address = IPAddress(host) else {
                return .failure(.init("the webhook URL's host is not a valid IPv6 address"))
            }
            target.literal = address
        } else if Self.looksNumeric(host) {
            // As browsers read hosts (WHATWG URL): a numeric last label makes the host an IPv4
            // address, in any of the legacy spellings, or invalid.
            guard let address = Self.legacyIPv4(host) else {
                return .failure(.init("the webhook URL's host is not a valid IPv4 address"))
            }
            target.literal = address
        } else if host == "localhost" || host.hasSuffix(".localhost") {
            return .failure(.init("the webhook URL may not point at this machine (localhost)"))
        }
        if let address = target.literal, let refusal = refusal(for: [address], scheme: scheme) {
            return .failure(refusal)
        }
        if target.literal == nil, scheme == "http", allowedNetworks.isEmpty {
            return .failure(.init("the webhook URL must be https"))
        }
        return .success(target)
    }

    /// Why these addresses (all those a host resolved to) may not be reached; nil when every one may.
    package func refusal(for addresses: [IPAddress], scheme: String) -> OutboundRefusal? {
        guard !addresses.isEmpty else { return .init("the webhook URL's host resolves to no address") }
        for address in addresses {
            if allowedNetworks.contains(where: { $0.contains(address) }) { continue }
            if let kind = Self.internalKind(of: address) {
                return .init("the webhook URL may not point at a \(kind) address (\(address.description))")
            }
            if scheme != "https" {
                return .init("the webhook URL must be https (http only to OTP_WEBHOOK_ALLOWED_NETWORKS)")
            }
        }
        return nil
    }

    /// What kind of address the operator's network has and the public internet does not; nil for a
    /// public one. IPv6 forms that carry an IPv4 address are judged by that address.
    package static func internalKind(of address: IPAddress) -> String? {
        let b = address.bytes
        if b.count == 4 {
            for (network, kind) in ipv4Blocks where network.contains(address) { return kind }
            return nil
        }
        if let embedded = embeddedIPv4(b) { return internalKind(of: embedded).map { $0 + " (embedded)" } }
        for (network, kind) in ipv6Blocks where network.contains(address) { return kind }
        return nil
    }

    private static let ipv4Blocks: [(IPNetwork, String)] = [
        ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "shared"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"), ("192.168.0.0/16", "private"), ("198.18.0.0/15", "reserved"),
        ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved or broadcast"),
    ].compactMap { entry in IPNetwork(entry.0).map { ($0, entry.1) } }

    private static let ipv6Blocks: [(IPNetwork, String)] = [
        ("::/96", "unspecified or loopback"), ("::ffff:0:0:0/96", "IPv4-translated"), ("64:ff9b:1::/48", "NAT64"),
        ("100::/64", "discard"),
        ("2001::/32", "Teredo"), ("fc00::/7", "private"), ("fe80::/10", "link-local"), ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ].compactMap { entry in IPNetwork(entry.0).map { ($0, entry.1) } }

    /// The IPv4 address inside a NAT64 (64:ff9b::/96), 6to4 (2002::/16) or IPv4-compatible (::/96,
    /// bar :: and ::1) address. IPv4-mapped ones are already IPv4 (`IPAddress`).
    static func embeddedIPv4(_ b: [UInt8]) -> IPAddress? {
        let nat64: [UInt8] = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
        if Array(b[0..<12]) == nat64 { return IPAddress(bytes: Array(b[12..<16])) }
        if b[0] == 0x20 && b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        if b[0..<12].allSatisfy({ $0 == 0 }) && b[12..<16].contains(where: { $0 != 0 }) && b[12...14] != [0, 0, 0] {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        return nil
    }

    /// Whether the host's last label is a number (decimal, or hex with `0x`): then it is an IPv4 address.
    static func looksNumeric(_ host: String) -> Bool {
        guard let last = host.split(separator: ".", omittingEmptySubsequences: false).last, !last.isEmpty else {
            return false
        }
        if last.hasPrefix("0x") { return last.dropFirst(2).allSatisfy(\.isHexDigit) }
        return last.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The WHATWG IPv4 parser: one to four parts, each decimal, octal (leading 0) or hex (0x); the
    /// last fills the bytes the others left. `0x7f.1`, `0177.0.0.1` and `2130706433` are 127.0.0.1.
    static func legacyIPv4(_ host: String) -> IPAddress? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            var digits = Substring(part)
            var radix = 10
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
                digits = digits.dropFirst(2)
                radix = 16
            } else if digits.count > 1 && digits.hasPrefix("0") {
                digits = digits.dropFirst()
                radix = 8
            }
            if digits.isEmpty, radix != 10 {
                numbers.append(0)
                continue
            }
            guard digits.count <= 12, let value = UInt64(digits, radix: radix) else { return nil }
            numbers.append(value)
        }
        guard numbers.dropLast().allSatisfy({ $0 <= 255 }) else { return nil }
        let lastBytes = 4 - (numbers.count - 1)
        guard let last = numbers.last, last < (UInt64(1) << (8 * UInt64(lastBytes))) else { return nil }
        var bytes = numbers.dropLast().map { UInt8($0) }
        for shift in stride(from: lastBytes - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: last >> (8 * UInt64(shift))))
        }
        return IPAddress(bytes: bytes)
    }
}

/// Why an outbound address was refused, in words for the app's owner.
package struct OutboundRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Turns a host name into its addresses (the system resolver in production).
package protocol HostResolver: Sendable {
    /// Every address the name resolves to; empty when it resolves to none.
    func addresses(of host: String) async -> [IPAddress]
}

/// The guard with a resolver: what both the save of a URL and the worker's connection consult.
package struct OutboundDestinations: Sendable {
    /// Where to connect: the URL's host and one checked address of it.
    package struct Checked: Sendable, Equatable {
        package var target: OutboundGuard.Target
        package var address: IPAddress
    }

    package let rules: OutboundGuard
    package let resolver: any HostResolver

    package init(rules: OutboundGuard, resolver: any HostResolver) {
        self.rules = rules
        self.resolver = resolver
    }

    /// Resolves the URL's host once and checks every address it got. `unresolved` is the failure
    /// of a name that resolves to nothing now.
    package func check(_ url: String) async -> Result<Checked, OutboundRefusal> {
        let target: OutboundGuard.Target
        switch rules.target(of: url) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): target = found
        }
        if let literal = target.literal { return .success(Checked(target: target, address: literal)) }
        let addresses = await resolver.addresses(of: target.host)
        guard !addresses.isEmpty else { return .failure(Self.unresolved) }
        if let refusal = rules.refusal(for: addresses, scheme: target.scheme) { return .failure(refusal) }
        return .success(Checked(target: target, address: addresses[0]))
    }

    /// What saving a URL may accept: a name that does not resolve now is kept (the worker checks it
    /// again at every delivery); anything refused is not.
    package func problemAtSave(_ url: String) async -> OutboundRefusal? {
        switch await check(url) {
        case .success: return nil
        case .failure(let refusal) where refusal == Self.unresolved: return nil
        case .failure(let refusal): return refusal
        }
    }

    package static let unresolved = OutboundRefusal("the webhook URL's host resolves to no address")
}
