#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, parsed with the C library's `inet_pton`, and the networks
/// (`10.0.0.0/8`, `2001:db8::/32`) that contain it.
package struct IPAddress: Sendable, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is its IPv4.
    package let bytes: [UInt8]

    package init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let all = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = Self.isIPv4Mapped(all) ? Array(all[12...]) : all
    }

    /// 4 or 16 bytes, as read off a socket address or out of another address; an IPv4-mapped
    /// IPv6 address becomes its IPv4, as parsed text does.
    package init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "an IP address is 4 or 16 bytes")
        self.bytes = bytes.count == 16 && Self.isIPv4Mapped(bytes) ? Array(bytes[12...]) : bytes
    }

    static func isIPv4Mapped(_ all: [UInt8]) -> Bool {
        all[0..<10].allSatisfy { $0 == 0 } && all[10] == 0xff && all[11] == 0xff
    }

    package var isIPv6: Bool { bytes.count == 16 }

    /// 127.0.0.0/8 or ::1 (an IPv4-mapped loopback address is already IPv4 here).
    package var isLoopback: Bool {
        isIPv6 ? bytes == [UInt8](repeating: 0, count: 15) + [1] : bytes[0] == 127
    }

    /// What per-IP limits count by: an IPv4 address itself (written as such also when it came
    /// IPv4-mapped), an IPv6 address by its /64, the block one host or one subscriber is given.
    /// Text that is no address is its own key.
    package static func limitKey(_ text: String) -> String {
        guard let address = IPAddress(text) else { return text }
        guard address.isIPv6 else { return address.bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { i in
            String(UInt16(address.bytes[i]) << 8 | UInt16(address.bytes[i + 1]), radix: 16)
        }
        return groups.joined(separator: ":") + "::/64"
    }
}

extension IPAddress: CustomStringConvertible {
    /// The address as `inet_ntop` writes it (`127.0.0.1`, `2001:db8::1`).
    package var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv6 ? AF_INET6 : AF_INET
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard written != nil else { return "?" }
        return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CIDR network: `192.0.2.0/24`, `2001:db8::/32`, or one address (a /32 or /128).
package struct IPNetwork: Sendable, Hashable {
    let base: [UInt8]
    let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maxLength = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maxLength
        guard let length, (0...maxLength).contains(length) else { return nil }
        base = Self.masked(address.bytes, length)
        prefixLength = length
    }

    package func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == base.count && Self.masked(address.bytes, prefixLength) == base
    }

    static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(8, max(0, length - index * 8))
            return bits == 0 ? 0 : byte & ~UInt8(0) << (8 - bits)
        }
    }
}

extension IPNetwork {
    /// The /64 an IPv6 address belongs to, as text (`2001:db8:1:2::/64`).
    package static func slash64(of address: IPAddress) -> String {
        "\(IPAddress(bytes: masked(address.bytes, 64)).description)/64"
    }
}
