import Crypto
import Foundation

/// The keyed hash a verification keeps instead of its code: HMAC-SHA256 under a server key, bound to
/// the verification id so a digest copied to another verification does not match there.
package struct CodeDigester: Sendable {
    private let keys: [SymmetricKey]

    package init(keys: ServerKeys) { self.keys = keys.ring.map(\.codeHashKey) }

    /// Under the current key. With a transaction, the digest covers its canonical form too: the code
    /// confirms that amount and payee and no other.
    package func digest(code: String, verificationID: String, transaction: Transaction? = nil) -> Data {
        Data(
            HMAC<SHA256>.authenticationCode(
                for: Self.message(code, verificationID, transaction), using: keys[0]))
    }

    /// Constant-time under each key of the ring (a code made before a rotation still matches):
    /// recomputes the digest and compares with `HMAC.isValidAuthenticationCode`.
    package func matches(code: String, verificationID: String, transaction: Transaction? = nil, digest: Data)
        -> Bool
    {
        let message = Self.message(code, verificationID, transaction)
        var matched = false
        for key in keys {
            matched = HMAC<SHA256>.isValidAuthenticationCode(digest, authenticating: message, using: key) || matched
        }
        return matched
    }

    /// The id, a zero byte, the code (the zero keeps id and code from running into each other),
    /// and for a transaction a zero byte and its canonical form.
    private static func message(_ code: String, _ verificationID: String, _ transaction: Transaction?) -> Data {
        var message = Data(verificationID.utf8)
        message.append(0)
        message.append(contentsOf: code.utf8)
        if let transaction {
            message.append(0)
            message.append(contentsOf: transaction.canonical.utf8)
        }
        return message
    }
}

/// Seals a code for the delivery queue with AES-GCM, bound to its verification id: under the
/// current key, opened with whichever key of the ring sealed it.
package struct CodeSealer: Sendable {
    private let keys: [SymmetricKey]

    package init(keys: ServerKeys) { self.keys = keys.ring.map(\.codeSealKey) }

    package func seal(code: String, verificationID: String) throws -> Data {
        let box = try AES.GCM.seal(Data(code.utf8), using: keys[0], authenticating: Data(verificationID.utf8))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return combined
    }

    package func open(_ sealed: Data, verificationID: String) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        var failure: any Error = CryptoKitError.authenticationFailure
        for key in keys {
            do {
                let plain = try AES.GCM.open(box, using: key, authenticating: Data(verificationID.utf8))
                return String(decoding: plain, as: UTF8.self)
            } catch {
                failure = error
            }
        }
        throw failure
    }
}
