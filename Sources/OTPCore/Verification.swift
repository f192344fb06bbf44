import Foundation

package enum VerificationStatus: String, Sendable, Codable, CaseIterable {
    case pending, verified, locked, expired, canceled
}

package enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    case queued, sending, sent, delivered, failed, canceled
}

/// What a verify or resend decision needs to know about a verification, as it stands in the store.
package struct VerificationSnapshot: Sendable, Equatable {
    package var status: VerificationStatus
    package var attempts: Int
    package var maxAttempts: Int
    package var sends: Int
    package var maxSends: Int
    package var expiresAt: Date
    package var resendAvailableAt: Date

    package init(
        status: VerificationStatus, attempts: Int, maxAttempts: Int, sends: Int, maxSends: Int, expiresAt: Date,
        resendAvailableAt: Date
    ) {
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.sends = sends
        self.maxSends = maxSends
        self.expiresAt = expiresAt
        self.resendAvailableAt = resendAvailableAt
    }

    /// The status a reader should see: a pending verification past its time is expired even before
    /// the expiry job has marked it.
    package func effectiveStatus(now: Date) -> VerificationStatus {
        status == .pending && now >= expiresAt ? .expired : status
    }

    package var attemptsRemaining: Int { max(0, maxAttempts - attempts) }
}
