import Crypto
import Foundation

/// The server's key ring (`OTP_SECRET_KEYS`, or `OTP_SECRET_KEY` as a ring of one) and the
/// purpose keys derived from each of its keys.
///
/// The first key makes everything new (code digests, sealed codes, sealed API secrets); every key
/// checks and opens. So a rotation is: put the new key first and keep the old one after it,
/// `otp keys reseal`, wait out the codes in flight (at most 10 minutes), drop the old key. No
/// client's secret changes. Each purpose has its own HKDF-SHA256 subkey, so a leak of one tells
/// nothing about the others.
package struct ServerKeys: Sendable {
    /// One key of the ring, as its purpose keys.
    package struct Key: Sendable {
        package let id: String
        /// HMAC key for the stored code digests.
        let codeHashKey: SymmetricKey
        /// AES-GCM key for the codes carried by queued deliveries.
        let codeSealKey: SymmetricKey
        /// AES-GCM key for the API key secrets kept for JWT checks.
        let secretSealKey: SymmetricKey
        /// HMAC key from which API key secrets were derived before they were random (keys made
        /// before the ring existed still have such secrets).
        let legacySecretKey: SymmetricKey
        /// HMAC key of the dashboard's CSRF tokens.
        package let dashboardFormKey: SymmetricKey

        init(id: String, secret: SymmetricKey) {
            func derive(_ purpose: String) -> SymmetricKey {
                HKDF<SHA256>.deriveKey(
                    inputKeyMaterial: secret, salt: Data("otp".utf8), info: Data(purpose.utf8), outputByteCount: 32)
            }
            self.id = id
            codeHashKey = derive("otp code digest v1")
            codeSealKey = derive("otp code seal v1")
            secretSealKey = derive("otp api key secret seal v1")
            legacySecretKey = derive("otp api key secret v1")
            dashboardFormKey = derive("otp dashboard form token v1")
        }
    }

    /// Never empty; the first key is the current one.
    package let ring: [Key]
    package var current: Key { ring[0] }

    package enum KeyError: Error, CustomStringConvertible {
        case notBase64(String)
        case wrongLength(String, Int)
        case malformedRing(String)

        package var description: String {
            switch self {
            case .notBase64(let name): "\(name) is not valid base64"
            case .wrongLength(let name, let count): "\(name) must decode to 32 bytes, not \(count)"
            case .malformedRing(let reason): "OTP_SECRET_KEYS is invalid: \(reason)"
            }
        }
    }

    package init(secret: SymmetricKey) {
        ring = [Key(id: "default", secret: secret)]
    }

    /// One key, as `OTP_SECRET_KEY` gives it.
    package init(base64 text: String) throws {
        ring = [Key(id: "default", secret: try Self.key(base64: text, name: "OTP_SECRET_KEY"))]
    }

    /// `OTP_SECRET_KEYS`: comma-separated `id:base64` entries, newest first.
    package init(ring text: String) throws {
        var keys: [Key] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let colon = entry.firstIndex(of: ":") else {
                throw KeyError.malformedRing("expected id:base64 entries")
            }
            let id = String(entry[..<colon])
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw KeyError.malformedRing("a key id must be letters, digits, - or _")
            }
            guard !keys.contains(where: { $0.id == id }) else { throw KeyError.malformedRing("key id \(id) twice") }
            keys.append(
                Key(
                    id: id, secret: try Self.key(base64: String(entry[entry.index(after: colon)...]), name: "key \(id)")
                ))
        }
        guard !keys.isEmpty else { throw KeyError.malformedRing("no key") }
        ring = keys
    }

    static func key(base64 text: String, name: String) throws -> SymmetricKey {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KeyError.notBase64(name)
        }
        guard bytes.count == 32 else { throw KeyError.wrongLength(name, bytes.count) }
        return SymmetricKey(data: bytes)
    }

    /// A new random secret in the form `OTP_SECRET_KEY` takes.
    package static func generateSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
