/// Random public identifiers: a prefix and lowercase base-36 characters from the system CSPRNG.
public enum Identifiers {
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")

    /// `count` characters of `[0-9a-z]`, each uniform (rejection sampling over bytes).
    public static func random(count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var result = ""
        result.reserveCapacity(count)
        while result.count < count {
            let byte = UInt8.random(in: 0...255, using: &rng)
            // 252 is the largest multiple of 36 not above 255.
            if byte < 252 { result.append(alphabet[Int(byte % 36)]) }
        }
        return result
    }

    /// `otp_` + 26 characters: about 134 bits, unguessable.
    public static func verificationID() -> String { "otp_" + random(count: 26) }
    public static func appID() -> String { "app_" + random(count: 20) }
    public static func keyID() -> String { "ak_" + random(count: 24) }

    public static func isVerificationID(_ text: String) -> Bool {
        text.hasPrefix("otp_") && text.utf8.count == 30
            && text.utf8.dropFirst(4).allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
    }
}
