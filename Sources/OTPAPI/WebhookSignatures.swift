import Crypto
import Foundation
import OTPCore

/// The vendors' ways of signing the receipts they post to us.
enum WebhookSignatures {
    /// `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio
    /// called followed by every POST parameter's name and value, sorted by name.
    static func twilio(url: String, parameters: [(String, String)], authToken: String) -> String {
        var content = url
        for (name, value) in parameters.sorted(by: { $0.0 < $1.0 }) { content += name + value }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(content.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed with the app secret.
    static func meta(body: Data, appSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(appSecret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func matches(_ presented: String?, _ expected: String) -> Bool {
        guard let presented else { return false }
        return constantTimeEquals(Data(presented.utf8), Data(expected.utf8))
    }
}
