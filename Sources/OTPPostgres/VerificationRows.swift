import Foundation
import OTPCore
import PostgresNIO

/// `otp.verifications` rows read as the core's `VerificationReport`, by column name: one reader for
/// `/otp/status` and `/otp/list`.
enum VerificationRows {
    /// The columns `report(_:)` reads, for a query over `otp.verifications v`.
    static let columns = """
        v.id, v.app_id, v.status, v.channel, v.recipient, v.attempts, v.max_attempts, v.sends, v.max_sends,
        v.created_at, v.expires_at, v.verified_at, v.resend_available_at, v.test, now() AS read_at,
        v.transaction::text AS transaction,
        (SELECT d.state FROM otp.deliveries d WHERE d.verification_id = v.id ORDER BY d.id DESC LIMIT 1)
            AS delivery_state
        """

    /// The status is the core's effective one at the database's `now()`.
    static func report(_ columns: PostgresRandomAccessRow) throws -> VerificationReport {
        let snapshot = try Self.snapshot(columns)
        var report = VerificationReport(
            id: try columns.value("id"), appID: try columns.value("app_id"),
            status: snapshot.effectiveStatus(now: try columns.value("read_at")),
            channel: try MessageChannel.stored(columns.value("channel")), recipient: try columns.value("recipient"),
            attempts: snapshot.attempts, attemptsRemaining: snapshot.attemptsRemaining, sends: snapshot.sends,
            // A verification's delivery is written with it; none can only mean it is being written.
            deliveryStatus: try columns.value("delivery_state", String?.self).map(DeliveryStatus.stored) ?? .queued,
            createdAt: try columns.value("created_at"), expiresAt: snapshot.expiresAt,
            verifiedAt: try columns.value("verified_at"),
            resendAvailableAt: snapshot.resendAvailableAt, test: try columns.value("test"))
        report.transaction = try transaction(columns)
        return report
    }

    /// The stored transaction (`transaction` as JSON text), if the verification confirms one.
    static func transaction(_ columns: PostgresRandomAccessRow) throws -> Transaction? {
        try columns.value("transaction", String?.self).map { text in
            try JSONDecoder().decode(Transaction.self, from: Data(text.utf8))
        }
    }

    /// What the verify and resend rules read: the columns of `otp.verifications` by their names.
    static func snapshot(_ columns: PostgresRandomAccessRow) throws -> VerificationSnapshot {
        VerificationSnapshot(
            status: try VerificationStatus.stored(columns.value("status")), attempts: try columns.value("attempts"),
            maxAttempts: try columns.value("max_attempts"), sends: try columns.value("sends"),
            maxSends: try columns.value("max_sends"), expiresAt: try columns.value("expires_at"),
            resendAvailableAt: try columns.value("resend_available_at"))
    }
}
