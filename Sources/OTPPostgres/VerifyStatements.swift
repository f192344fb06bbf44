import Foundation
import OTPCore
import PostgresNIO

// The statements of a verify and a resend that are prepared once per connection.

/// A verification as locked for the rest of its transaction.
struct LockedVerification {
    var snapshot: VerificationSnapshot
    var recipient: String
    var channel: MessageChannel
    var codeLength: Int
    var codeDigest: Data?
    var sealedCode: Data?
    var now: Date
    var transaction: Transaction?
}

extension LockedVerification {
    /// The columns by name, as `LockVerificationStatement` and `otp.lock_verify_batch` return them.
    init(_ columns: PostgresRandomAccessRow) throws {
        self.init(
            snapshot: try VerificationRows.snapshot(columns), recipient: try columns.value("recipient"),
            channel: try MessageChannel.stored(columns.value("channel")),
            codeLength: try columns.value("code_length"), codeDigest: try columns.value("code_digest"),
            sealedCode: try columns.value("sealed_code"), now: try columns.value("read_at"),
            transaction: try VerificationRows.transaction(columns))
    }
}

/// Locks one of an app's verifications (`FOR UPDATE`: calls on it are decided one after another)
/// and reads it.
struct LockVerificationStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT status, attempts, max_attempts, sends, max_sends, expires_at, resend_available_at, recipient,
            channel, code_length, code_digest, sealed_code, now() AS read_at, transaction::text AS transaction
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
        try LockedVerification(row.makeRandomAccess())
    }
}

/// Locks the recipients' guessing rows (made on first use; sorted bytewise by app and recipient,
/// the one order every verify takes them in) and reads them.
struct LockGuessesStatement: PostgresPreparedStatement {
    static let sql = """
        WITH g AS (
            INSERT INTO otp.recipient_guesses AS g (app_id, recipient)
            SELECT DISTINCT ON (x.app_id COLLATE "C", x.recipient COLLATE "C") x.app_id, x.recipient
            FROM unnest($1::text[], $2::text[]) AS x (app_id, recipient)
            ORDER BY x.app_id COLLATE "C", x.recipient COLLATE "C"
            ON CONFLICT (app_id, recipient) DO UPDATE SET wrong_in_row = g.wrong_in_row
            RETURNING g.app_id, g.recipient, g.wrong_in_row, g.last_wrong_at
        )
        SELECT app_id, recipient, wrong_in_row, last_wrong_at FROM g
        """

    struct Row {
        var appID: String
        var recipient: String
        var wrongInRow: Int
        var lastWrongAt: Date?
    }

    var appIDs: [String]
    var recipients: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(appIDs)
        bindings.append(recipients)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (appID, recipient, wrongInRow, lastWrongAt) = try row.decode((String, String, Int, Date?).self)
        return Row(appID: appID, recipient: recipient, wrongInRow: wrongInRow, lastWrongAt: lastWrongAt)
    }
}

/// The recipients' wrong codes in `verify_failures_1d`'s current window, read once their guessing
/// rows are locked: a statement of its own, so its snapshot is taken after the lock wait and holds
/// what the verify that held the lock charged (read in the locking statement, two verifies of one
/// recipient at the cap could both pass it). One row with a null key when no counter exists yet.
struct FailureCountsStatement: PostgresPreparedStatement {
    static let rule = RateLimitRule.verifyFailures1d

    static let sql = """
        SELECT c.scope_key, coalesce(c.count, 0)::bigint, w.start + make_interval(secs => $3::bigint)
        FROM (SELECT to_timestamp((floor(extract(epoch FROM now()) / $3::bigint) * $3::bigint)::float8) AS start) w
        LEFT JOIN otp.rate_limit_counters c
            ON c.rule = $2::text AND c.window_start = w.start AND c.scope_key = ANY ($1::text[])
        """

    struct Row {
        var failureKey: String?
        var failures: Int
        var windowEnd: Date
    }

    var failureKeys: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(failureKeys)
        bindings.append(Self.rule.rawValue)
        bindings.append(Self.rule.windowSeconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (failureKey, failures, windowEnd) = try row.decode((String?, Int, Date).self)
        return Row(failureKey: failureKey, failures: failures, windowEnd: windowEnd)
    }
}

/// Records a batch's decisions in one statement (`decisions`: a JSON array, one object per
/// decision, as `VerifyBatch` writes it): each verification's new state (its code erased once it
/// is no longer pending), the attempt when it counts as one (refused tries included), queued
/// deliveries canceled, the recipient's run of wrong codes and its daily failure counter (charged
/// without a ceiling: the cap refuses the next verify, never this record), a verified code in the
/// fraud guard's counts of the scopes its send counted in, and the events.
///
/// A batch holds one decision per verification and per recipient (`VerifyBatch` defers the
/// others), so no row is changed twice here; the rows were locked by the batch's earlier statements,
/// and the failure counters are taken in bytewise order. The rows are also named by arrays
/// (`verificationIDs`, ...): the planner takes `jsonb_to_recordset` for 100 rows, and joined with
/// that many it would scan a small table instead of probing its key.
struct RecordVerifiesStatement: PostgresPreparedStatement {
    static let sql = """
        WITH r AS (
            SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS q (n integer, id text, app_id text, recipient text,
                status text, attempts bigint, verified boolean, outcome text, counts boolean, ip text, actor text,
                events text[], guesses text, failure_key text, failure_max bigint, refused_by text)
        ), u AS (
            UPDATE otp.verifications v SET status = r.status, attempts = r.attempts,
                verified_at = CASE WHEN r.verified THEN now() ELSE v.verified_at END,
                code_digest = CASE WHEN r.status = 'pending' THEN v.code_digest END,
                sealed_code = CASE WHEN r.status = 'pending' THEN v.sealed_code END,
                updated_at = now()
            FROM r WHERE v.id = r.id AND v.id = ANY ($4::text[])
            RETURNING v.id
        ), a AS (
            INSERT INTO otp.verify_attempts (verification_id, app_id, success, reason, ip)
            SELECT r.id, r.app_id, r.verified, lower(r.outcome), r.ip FROM r WHERE r.counts ORDER BY r.n
        ), c AS (
            UPDATE otp.deliveries d SET state = 'canceled', sealed_code = NULL, finished_at = now(), updated_at = now()
            FROM r WHERE d.verification_id = r.id AND d.state = 'queued' AND r.status <> 'pending'
                AND d.verification_id = ANY ($4::text[])
        ), g AS (
            UPDATE otp.recipient_guesses g SET
                wrong_in_row = CASE WHEN r.guesses = 'wrong' THEN g.wrong_in_row + 1 ELSE 0 END,
                last_wrong_at = CASE WHEN r.guesses = 'wrong' THEN now() ELSE g.last_wrong_at END
            FROM r WHERE g.app_id = r.app_id AND g.recipient = r.recipient AND r.guesses <> 'unchanged'
                AND g.app_id = ANY ($5::text[]) AND g.recipient = ANY ($6::text[])
        ), w AS (
            SELECT to_timestamp((floor(extract(epoch FROM now()) / $3::bigint) * $3::bigint)::float8) AS start
        ), f AS (
            INSERT INTO otp.rate_limit_counters AS k (rule, scope_key, window_start, count, expires_at, max_count)
            SELECT $2::text, r.failure_key, w.start, count(*), w.start + make_interval(secs => $3::bigint),
                max(r.failure_max)
            FROM r, w WHERE r.guesses = 'wrong' AND r.failure_key <> ''
            GROUP BY r.failure_key, w.start
            ORDER BY r.failure_key COLLATE "C"
            ON CONFLICT (rule, scope_key, window_start) DO UPDATE SET count = k.count + EXCLUDED.count
        ), fv AS (
            SELECT v.app_id, s.scope, count(*)::int AS verified
            FROM r JOIN otp.verifications v ON v.id = r.id AND v.id = ANY ($4::text[]),
                unnest(v.fraud_scopes) AS s (scope)
            WHERE r.verified
            GROUP BY v.app_id, s.scope
        ), shard AS (
            SELECT floor(random() * 8)::smallint AS n
        ), fr AS (
            INSERT INTO otp.fraud_recent AS k (app_id, scope, bucket, shard, verified)
            SELECT fv.app_id, fv.scope, date_bin('5 minutes', now(), timestamptz '2000-01-01'), shard.n, fv.verified
            FROM fv, shard ORDER BY fv.app_id, fv.scope COLLATE "C"
            ON CONFLICT (app_id, scope, bucket, shard) DO UPDATE SET verified = k.verified + EXCLUDED.verified
        ), fd AS (
            INSERT INTO otp.fraud_daily AS k (app_id, scope, day, shard, verified)
            SELECT fv.app_id, fv.scope, (now() AT TIME ZONE 'UTC')::date, shard.n, fv.verified
            FROM fv, shard ORDER BY fv.app_id, fv.scope COLLATE "C"
            ON CONFLICT (app_id, scope, day, shard) DO UPDATE SET verified = k.verified + EXCLUDED.verified
        ), e AS (
            INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
            SELECT x.event, r.app_id, r.id, r.actor, r.ip,
                jsonb_build_object('outcome', r.outcome, 'attempts', r.attempts)
                    || CASE WHEN r.refused_by <> '' THEN jsonb_build_object('limit', r.refused_by) ELSE '{}' END
            FROM r, unnest(r.events) WITH ORDINALITY AS x (event, k)
            ORDER BY r.n, x.k
        )
        SELECT count(*)::bigint FROM u
        """
    typealias Row = Int

    var decisions: String
    var verificationIDs: [String]
    var appIDs: [String]
    var recipients: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(decisions)
        bindings.append(FailureCountsStatement.rule.rawValue)
        bindings.append(FailureCountsStatement.rule.windowSeconds)
        bindings.append(verificationIDs)
        bindings.append(appIDs)
        bindings.append(recipients)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
}

/// Takes each request's gate and locks the verifications of a batch with `otp.lock_verify_batch`
/// (`requests`: a JSON array, as `VerifyBatch` writes it).
struct LockVerifiesStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT n, refused, found, status, attempts, max_attempts, sends, max_sends, expires_at,
            resend_available_at, recipient, channel, code_length, code_digest, sealed_code, read_at, transaction
        FROM otp.lock_verify_batch($1::text::jsonb)
        """
    typealias Row = PostgresRow

    var requests: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(requests)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
