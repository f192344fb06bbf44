import Foundation
import OTPCore
import PostgresNIO

/// `otp.verifications` rows read as the core's `VerificationReport`, by column name: one reader for
/// `/otp/status` and `/otp/list`.
enum VerificationRows {
    /// The columns `report(_:)` reads, for a query over `otp.verifications v`.
    static let columns = """
        v.id, v.app_id, v.status, v.channel, v.recipient, v.attempts, v.max_attempts, v.sends, v.max_sends,
        v.created_at, v.expires_at, v.verified_at, v.resend_available_at, now() AS read_at,
        (SELECT d.state FROM otp.deliveries d WHERE d.verification_id = v.id ORDER BY d.id DESC LIMIT 1)
            AS delivery_state
        """

    /// The status is the core's effective one at the database's `now()`.
    static func report(_ row: PostgresRow) throws -> VerificationReport {
        let columns = row.makeRandomAccess()
        func column<Value: PostgresDecodable>(_ name: String, _: Value.Type = Value.self) throws -> Value {
            try columns[name].decode(Value.self)
        }
        let snapshot = VerificationSnapshot(
            status: try VerificationStatus.stored(column("status")), attempts: try column("attempts"),
            maxAttempts: try column("max_attempts"), sends: try column("sends"), maxSends: try column("max_sends"),
            expiresAt: try column("expires_at"), resendAvailableAt: try column("resend_available_at"))
        return VerificationReport(
            id: try column("id"), appID: try column("app_id"),
            status: snapshot.effectiveStatus(now: try column("read_at")),
            channel: try MessageChannel.stored(column("channel")), recipient: try column("recipient"),
            attempts: snapshot.attempts, attemptsRemaining: snapshot.attemptsRemaining, sends: snapshot.sends,
            // A verification's delivery is written with it; none can only mean it is being written.
            deliveryStatus: try column("delivery_state", String?.self).map(DeliveryStatus.stored) ?? .queued,
            createdAt: try column("created_at"), expiresAt: snapshot.expiresAt, verifiedAt: try column("verified_at"),
            resendAvailableAt: snapshot.resendAvailableAt)
    }
}
