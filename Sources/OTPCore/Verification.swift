import Foundation

public enum VerificationStatus: String, Sendable, Codable, CaseIterable {
    case pending, verified, locked, expired, canceled
}

public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    case queued, sending, sent, delivered, failed, canceled
}

/// What a verify or resend decision needs to know about a verification, as it stands in the store.
public struct VerificationSnapshot: Sendable, Equatable {
    public var status: VerificationStatus
    public var attempts: Int
    public var maxAttempts: Int
    public var sends: Int
    public var maxSends: Int
    public var expiresAt: Date
    public var resendAvailableAt: Date

    public init(
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
    public func effectiveStatus(now: Date) -> VerificationStatus {
        status == .pending && now >= expiresAt ? .expired : status
    }

    public var attemptsRemaining: Int { max(0, maxAttempts - attempts) }
}
