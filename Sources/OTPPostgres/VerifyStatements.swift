import Foundation
import OTPCore
import PostgresNIO

// The statements of a verify, prepared once per connection.

/// A verification as locked for the rest of its transaction.
struct LockedVerification {
    var snapshot: VerificationSnapshot
    var recipient: String
    var channel: OTPCore.Channel
    var codeLength: Int
    var codeDigest: Data?
    var sealedCode: Data?
    var now: Date
}

/// Locks one of an app's verifications (`FOR UPDATE`: calls on it are decided one after another)
/// and reads it.
struct LockVerificationStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT status, attempts, max_attempts, sends, max_sends, expires_at, resend_available_at, recipient,
            channel, code_length, code_digest, sealed_code, now()
        FROM otp.verifications WHERE id = $1::text AND app_id = $2::text FOR UPDATE
        """
    typealias Row = LockedVerification

    var verificationID: String
    var appID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(verificationID)
        bindings.append(appID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> LockedVerification {
        let row = try row.decode((String, Int, Int, Int, Int, Date, Date, String, String, Int, Data?, Data?, Date).self)
        let snapshot = VerificationSnapshot(
            status: VerificationStatus(rawValue: row.0) ?? .canceled, attempts: row.1, maxAttempts: row.2,
            sends: row.3, maxSends: row.4, expiresAt: row.5, resendAvailableAt: row.6)
        return LockedVerification(
            snapshot: snapshot, recipient: row.7, channel: OTPCore.Channel(rawValue: row.8) ?? .sms, codeLength: row.9,
            codeDigest: row.10, sealedCode: row.11, now: row.12)
    }
}

/// Records a verify's decision: the verification's new state (its code erased once it is no longer
/// pending), the attempt when it counts as one, queued deliveries canceled, and the events.
struct RecordVerifyStatement: PostgresPreparedStatement {
    static let sql = """
        WITH u AS (
            UPDATE otp.verifications SET status = $1::text, attempts = $2::bigint,
                verified_at = CASE WHEN $3::boolean THEN now() ELSE verified_at END,
                code_digest = CASE WHEN $1::text = 'pending' THEN code_digest END,
                sealed_code = CASE WHEN $1::text = 'pending' THEN sealed_code END,
                updated_at = now()
            WHERE id = $4::text
        ), a AS (
            INSERT INTO otp.verify_attempts (verification_id, app_id, success, reason, ip)
            SELECT $4::text, $5::text, $3::boolean, $6::text, $7::text WHERE $8::boolean
        ), c AS (
            UPDATE otp.deliveries SET state = 'canceled', sealed_code = NULL, finished_at = now(), updated_at = now()
            WHERE verification_id = $4::text AND state = 'queued' AND $1::text <> 'pending'
        )
        INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
        SELECT e, $5::text, $4::text, $9::text, $7::text,
            jsonb_build_object('outcome', $10::text, 'attempts', $2::bigint)
        FROM unnest($11::text[]) AS e
        """
    typealias Row = ()

    var verificationID: String
    var appID: String
    var actor: Actor
    var decision: VerifyDecision
    var events: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(decision.status.rawValue)
        bindings.append(decision.attempts)
        bindings.append(decision.outcome == .verified)
        bindings.append(verificationID)
        bindings.append(appID)
        bindings.append(decision.outcome.rawValue.lowercased())
        bindings.append(actor.ip)
        bindings.append(decision.countsAsTry)
        bindings.append(actor.keyID)
        bindings.append(decision.outcome.rawValue)
        bindings.append(events)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
