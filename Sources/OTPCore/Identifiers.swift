/// Random public identifiers: a prefix and lowercase base-36 characters from the system CSPRNG.
package enum Identifiers {
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` characters of `[0-9a-z]`, each uniform (rejection sampling over bytes).
    package static func random(count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(count)
        while characters.count < count {
            // Eight bytes per call to the CSPRNG (each call is a system call).
            var bytes = rng.next()
            for _ in 0..<8 where characters.count < count {
                let byte = UInt8(truncatingIfNeeded: bytes)
                bytes >>= 8
                // 252 is the largest multiple of 36 not above 255.
                if byte < 252 { characters.append(alphabet[Int(byte % 36)]) }
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// `otp_` + 26 characters: about 134 bits, unguessable.
    package static func verificationID() -> String { "otp_" + random(count: 26) }
    package static func appID() -> String { "app_" + random(count: 20) }
    package static func keyID() -> String { "ak_" + random(count: 24) }

    package static func isVerificationID(_ text: String) -> Bool {
        text.hasPrefix("otp_") && text.utf8.count == 30
            && text.utf8.dropFirst(4).allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
    }
}
