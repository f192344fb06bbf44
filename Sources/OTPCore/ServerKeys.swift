import Crypto
import Foundation

/// The keys the service derives from its one configured secret (`OTP_SECRET_KEY`).
///
/// Each purpose gets its own HKDF-SHA256 subkey so that a leak of one (say, a sealed code's key)
/// tells nothing about the others.
public struct ServerKeys: Sendable {
    /// HMAC key for the stored code digests.
    public let codeHashKey: SymmetricKey
    /// AES-GCM key for the codes carried by queued deliveries.
    public let codeSealKey: SymmetricKey
    /// HMAC key from which API key secrets are derived.
    public let apiSecretKey: SymmetricKey

    public enum KeyError: Error, CustomStringConvertible {
        case notBase64
        case wrongLength(Int)

        public var description: String {
            switch self {
            case .notBase64: "OTP_SECRET_KEY is not valid base64"
            case .wrongLength(let count): "OTP_SECRET_KEY must decode to 32 bytes, not \(count)"
            }
        }
    }

    public init(secret: SymmetricKey) {
        func derive(_ purpose: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: secret, salt: Data("otp".utf8), info: Data(purpose.utf8), outputByteCount: 32)
        }
        codeHashKey = derive("otp code digest v1")
        codeSealKey = derive("otp code seal v1")
        apiSecretKey = derive("otp api key secret v1")
    }

    public init(base64 text: String) throws {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KeyError.notBase64
        }
        guard bytes.count == 32 else { throw KeyError.wrongLength(bytes.count) }
        self.init(secret: SymmetricKey(data: bytes))
    }

    /// A new random secret in the form `OTP_SECRET_KEY` takes.
    public static func generateSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
