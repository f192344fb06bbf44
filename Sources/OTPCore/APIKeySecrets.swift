import Crypto
import Foundation

/// API key secrets are derived, not stored: `secret = "sk_" + base64url(HMAC(server key, key_id))`.
///
/// The database keeps only a SHA-256 digest of each secret (enough to check Basic and header
/// credentials), yet the server can still check HS256 JWTs signed with the secret, because it can
/// recompute the secret from the key id. Rotating `OTP_SECRET_KEY` therefore retires every API key.
public struct APIKeySecrets: Sendable {
    private let key: SymmetricKey

    public init(keys: ServerKeys) { key = keys.apiSecretKey }

    public func secret(forKeyID keyID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(keyID.utf8), using: key)
        return "sk_" + Data(mac).base64URLEncoded()
    }

    public static func digest(of secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Constant-time comparison of a presented secret with a stored digest.
    public static func secret(_ presented: String, matches storedDigest: Data) -> Bool {
        constantTimeEquals(digest(of: presented), storedDigest)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: Data, _ rhs: Data) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}

extension Data {
    public func base64URLEncoded() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
