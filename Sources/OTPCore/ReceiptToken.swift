import Crypto
import Foundation

/// The token a receipt URL carries for a vendor that signs nothing (Kannel calls its `dlr-url` as
/// given): HMAC-SHA256 of the message's id under the operator's secret, base64url. Only a URL this
/// service made is believed, so nobody can mark another's message delivered or failed.
package enum ReceiptToken {
    package static func make(messageID: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message(messageID).utf8), using: key(secret))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether `token` is `make(messageID:secret:)`'s, compared in constant time.
    package static func matches(_ token: String, messageID: String, secret: String) -> Bool {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let mac = Data(base64Encoded: base64) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Data(message(messageID).utf8), using: key(secret))
    }

    private static func message(_ messageID: String) -> String { "otp-receipt|" + messageID }
    private static func key(_ secret: String) -> SymmetricKey { SymmetricKey(data: Data(secret.utf8)) }
}
