import Foundation

/// A verification's code as it leaves `VerificationService.issueCode`: its keyed digest (for
/// verify) and its seal (for the delivery). The plaintext never leaves that function.
package struct IssuedCode: Sendable {
    package var digest: Data
    package var sealed: Data
    package var length: Int
    /// A test number's fixed code.
    package var test: Bool
    /// The code the verification already had (a same-code resend): its stored digest stands.
    package var reused: Bool
}

extension VerificationService {
    /// The one place a code is made, for a send, a requested send and a resend alike: a test
    /// number's own code; else, for a same-code app, the one `kept` (sealed) from before; else a new
    /// random one of `length` digits.
    /// With a transaction, the digest covers it (`CodeDigester`).
    func issueCode(
        verificationID: String, recipient: String, length: Int, policy: AppPolicy, kept: Data? = nil,
        transaction: Transaction? = nil
    ) throws -> IssuedCode {
        let code: String
        var reused = false
        let fixed = try TestNumbers.code(for: recipient, policy: policy, sealer: sealer)
        if let fixed {
            code = fixed
        } else if policy.resendPolicy == .sameCode, let kept {
            code = try sealer.open(kept, verificationID: verificationID)
            reused = true
        } else {
            code = codes.makeCode(length: length)
        }
        return IssuedCode(
            digest: digester.digest(code: code, verificationID: verificationID, transaction: transaction),
            sealed: try sealer.seal(code: code, verificationID: verificationID), length: code.count,
            test: fixed != nil, reused: reused)
    }
}
