import Crypto
import Foundation

/// API key secrets: random per key, shown once, stored as a SHA-256 digest (which is all Basic and
/// header credentials need) and sealed with AES-GCM under the server's key ring (so the server can
/// check HS256 JWTs, which are signed with the secret itself). Rotating the server key reseals;
/// it never changes a client's secret. Only `otp keys revoke` retires a key.
package struct APIKeySecrets: Sendable {
    private let ring: [ServerKeys.Key]

    package init(keys: ServerKeys) { ring = keys.ring }

    /// `sk_` and 32 random bytes, base64url.
    package static func newSecret() -> String {
        "sk_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64URLEncoded() }
    }

    /// The secret sealed under the current key, bound to its key id.
    package func seal(_ secret: String, keyID: String) throws -> Data {
        let box = try AES.GCM.seal(Data(secret.utf8), using: ring[0].secretSealKey, authenticating: Data(keyID.utf8))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return combined
    }

    /// The secret HS256 JWTs of `key` are checked with: its sealed secret opened with whichever key
    /// of the ring sealed it; for a key made before secrets were sealed, the secret derived from
    /// its id that matches its digest. nil when no key of the ring can tell.
    package func signingSecret(of key: StoredAPIKey) -> String? {
        if let sealed = key.sealedSecret {
            guard let box = try? AES.GCM.SealedBox(combined: sealed) else { return nil }
            for serverKey in ring {
                if let plain = try? AES.GCM.open(
                    box, using: serverKey.secretSealKey, authenticating: Data(key.keyID.utf8))
                {
                    return String(decoding: plain, as: UTF8.self)
                }
            }
            return nil
        }
        return ring.lazy.map { Self.derivedSecret(keyID: key.keyID, using: $0) }
            .first { Self.secret($0, matches: key.secretDigest) }
    }

    /// How secrets were made before they were random (kept to check and reseal such keys).
    package static func derivedSecret(keyID: String, using key: ServerKeys.Key) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(keyID.utf8), using: key.legacySecretKey)
        return "sk_" + Data(mac).base64URLEncoded()
    }

    package static func digest(of secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Constant-time comparison of a presented secret with a stored digest.
    package static func secret(_ presented: String, matches storedDigest: Data) -> Bool {
        constantTimeEquals(digest(of: presented), storedDigest)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
package func constantTimeEquals(_ lhs: Data, _ rhs: Data) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}

extension Data {
    package func base64URLEncoded() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
