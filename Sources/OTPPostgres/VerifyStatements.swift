import Foundation
import OTPCore
import PostgresNIO

// The statements of a verify, prepared once per connection.

/// A verification as locked for the rest of its transaction.
struct LockedVerification {
    var snapshot: VerificationSnapshot
    var recipient: String
    var channel: MessageChannel
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
            channel, code_length, code_digest, sealed_code, now() AS read_at
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
        let columns = row.makeRandomAccess()
        let snapshot = try VerificationRows.snapshot(columns)
        return LockedVerification(
            snapshot: snapshot, recipient: try columns.value("recipient"),
            channel: try MessageChannel.stored(columns.value("channel")),
            codeLength: try columns.value("code_length"), codeDigest: try columns.value("code_digest"),
            sealedCode: try columns.value("sealed_code"), now: try columns.value("read_at"))
    }
}

/// Locks the recipient's guessing row (made on first use) and reads it with the recipient's
/// wrong codes in `verify_failures_1d`'s current window.
struct LockGuessesStatement: PostgresPreparedStatement {
    static let rule = RateLimitRule.verifyFailures1d

    static let sql = """
        WITH g AS (
            INSERT INTO otp.recipient_guesses AS g (app_id, recipient) VALUES ($1::text, $2::text)
            ON CONFLICT (app_id, recipient) DO UPDATE SET wrong_in_row = g.wrong_in_row
            RETURNING wrong_in_row, last_wrong_at
        ), w AS (
            SELECT to_timestamp((floor(extract(epoch FROM now()) / $5::bigint) * $5::bigint)::float8) AS start
        )
        SELECT g.wrong_in_row, g.last_wrong_at,
            coalesce((SELECT c.count FROM otp.rate_limit_counters c, w WHERE c.rule = $4::text
                AND c.scope_key = $3::text AND c.window_start = w.start), 0)::bigint,
            (SELECT start + make_interval(secs => $5::bigint) FROM w)
        FROM g
        """
    typealias Row = RecipientGuesses

    var appID: String
    var recipient: String
    var failureCounter: RateLimitCharge?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(appID)
        bindings.append(recipient)
        bindings.append(failureCounter?.scopeKey ?? "")
        bindings.append(Self.rule.rawValue)
        bindings.append(Self.rule.windowSeconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> RecipientGuesses {
        let (wrongInRow, lastWrongAt, failures, windowEnd) = try row.decode((Int, Date?, Int, Date).self)
        return RecipientGuesses(
            failuresInWindow: failures, failureLimit: failureCounter?.limit, failureWindowEndsAt: windowEnd,
            wrongInRow: wrongInRow, lastWrongAt: lastWrongAt)
    }
}

/// Records a verify's decision in one statement: the verification's new state (its code erased
/// once it is no longer pending), the attempt when it counts as one (refused tries included),
/// queued deliveries canceled, the recipient's run of wrong codes and its daily failure counter
/// (charged without a ceiling: the cap refuses the next verify, never this record), and the events.
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
        ), g AS (
            UPDATE otp.recipient_guesses SET
                wrong_in_row = CASE WHEN $12::text = 'wrong' THEN wrong_in_row + 1 ELSE 0 END,
                last_wrong_at = CASE WHEN $12::text = 'wrong' THEN now() ELSE last_wrong_at END
            WHERE app_id = $5::text AND recipient = $13::text AND $12::text <> 'unchanged'
        ), f AS (
            INSERT INTO otp.rate_limit_counters AS k (rule, scope_key, window_start, count, expires_at, max_count)
            SELECT $17::text, $14::text, w.start, 1, w.start + make_interval(secs => $18::bigint), $15::bigint
            FROM (SELECT to_timestamp((floor(extract(epoch FROM now()) / $18::bigint) * $18::bigint)::float8) AS start) w
            WHERE $12::text = 'wrong' AND $14::text <> ''
            ON CONFLICT (rule, scope_key, window_start) DO UPDATE SET count = k.count + 1
        )
        INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
        SELECT e, $5::text, $4::text, $9::text, $7::text,
            jsonb_build_object('outcome', $10::text, 'attempts', $2::bigint)
                || CASE WHEN $16::text <> '' THEN jsonb_build_object('limit', $16::text) ELSE '{}' END
        FROM unnest($11::text[]) AS e
        """
    typealias Row = ()

    var verificationID: String
    var appID: String
    var recipient: String
    var actor: Caller
    var decision: VerifyDecision
    var failureCounter: RateLimitCharge?
    var events: [EventKind]

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
        bindings.append(events.map(\.rawValue))
        bindings.append(decision.guesses.rawValue)
        bindings.append(recipient)
        bindings.append(failureCounter?.scopeKey ?? "")
        bindings.append(failureCounter?.limit ?? 0)
        bindings.append(decision.refusal?.rule ?? "")
        bindings.append(LockGuessesStatement.rule.rawValue)
        bindings.append(LockGuessesStatement.rule.windowSeconds)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
