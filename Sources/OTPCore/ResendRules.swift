import Foundation

/// Why a resend is refused.
package enum ResendRefusal: Error, Sendable, Equatable {
    case notPending
    case maxSendsExceeded
    case cooldown(retryAfterSeconds: Int)
}

package enum ResendRules {
    /// nil when a resend may go out now.
    package static func refusal(_ verification: VerificationSnapshot, now: Date) -> ResendRefusal? {
        guard verification.effectiveStatus(now: now) == .pending else { return .notPending }
        if verification.sends >= verification.maxSends { return .maxSendsExceeded }
        if now < verification.resendAvailableAt {
            let wait = verification.resendAvailableAt.timeIntervalSince(now).rounded(.up)
            return .cooldown(retryAfterSeconds: max(1, Int(wait)))
        }
        return nil
    }
}
