-- Group commit for verifies: the verifies that arrive together are decided in one transaction,
-- with one call of otp.lock_verify_batch, one statement for the recipients' guessing rows and one
-- statement that records every decision (VerifyStatements.swift), instead of a transaction of five
-- or six round trips each. A
-- verify alone is a batch of one. Each request keeps its own answer: a gate that refuses one
-- refuses only that one; any other error fails the whole transaction, and the service then decides
-- each request again on its own.
--
-- Locks are taken in one order by every verify, alone or batched, so batches cannot deadlock one
-- another: the gate counters (bytewise), the verifications (by id), the guessing rows (by app and
-- recipient, bytewise), the failure counters (bytewise).

-- Takes one use of each request's gate (verify_ip_5m), in request order, each refusing only its own
-- request, then locks the verifications of the requests that passed (FOR UPDATE, in id order) and
-- reads them. One row per request: `refused` ('rule seconds') for a refused one; for one that
-- passed, its verification's columns, or only `n` when the app has no such verification.
CREATE FUNCTION otp.lock_verify_batch(requests jsonb)
RETURNS TABLE (n integer, refused text, found boolean, status text, attempts bigint, max_attempts bigint,
    sends bigint, max_sends bigint, expires_at timestamptz, resend_available_at timestamptz, recipient text,
    channel text, code_length bigint, code_digest bytea, sealed_code bytea, read_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    counters_locked integer;
    passed integer[] := '{}';
BEGIN
    WITH wanted AS (
        SELECT q.gate_rule AS rule, q.gate_key AS scope_key, q.gate_max AS max_count, q.gate_window AS win,
            to_timestamp((floor(extract(epoch FROM now()) / q.gate_window) * q.gate_window)::float8) AS window_start
        FROM jsonb_to_recordset(requests) AS q (gate_rule text, gate_key text, gate_max bigint, gate_window bigint)
        WHERE q.gate_rule IS NOT NULL
    ), locked AS (
        INSERT INTO otp.rate_limit_counters AS c (rule, scope_key, window_start, count, expires_at, max_count)
        SELECT DISTINCT ON (rule COLLATE "C", scope_key COLLATE "C", window_start)
            rule, scope_key, window_start, 0, window_start + make_interval(secs => win), max_count
        FROM wanted
        ORDER BY rule COLLATE "C", scope_key COLLATE "C", window_start
        ON CONFLICT (rule, scope_key, window_start) DO UPDATE SET count = c.count
        RETURNING 1
    )
    SELECT count(*) INTO counters_locked FROM locked;

    FOR r IN
        SELECT * FROM jsonb_to_recordset(requests) AS q (n integer, gate_rule text, gate_key text, gate_max bigint,
            gate_window bigint)
        ORDER BY q.n
    LOOP
        refused := NULL;
        IF r.gate_rule IS NOT NULL THEN
            refused := otp.charge_counters_or_refuse(ARRAY[r.gate_rule], ARRAY[r.gate_key], ARRAY[r.gate_max],
                ARRAY[r.gate_window]);
        END IF;
        IF refused IS NULL THEN
            passed := passed || r.n;
        ELSE
            n := r.n;
            RETURN NEXT;
        END IF;
    END LOOP;

    RETURN QUERY
    WITH q AS (
        SELECT x.n, x.id, x.app_id
        FROM jsonb_to_recordset(requests) AS x (n integer, id text, app_id text)
        WHERE x.n = ANY (passed)
    ), v AS (
        SELECT w.id, w.app_id, w.status, w.attempts, w.max_attempts, w.sends, w.max_sends, w.expires_at,
            w.resend_available_at, w.recipient, w.channel, w.code_length, w.code_digest, w.sealed_code
        FROM otp.verifications w
        WHERE (w.id, w.app_id) IN (SELECT q.id, q.app_id FROM q)
        ORDER BY w.id COLLATE "C"
        FOR UPDATE
    )
    SELECT q.n, NULL::text, v.id IS NOT NULL, v.status, v.attempts::bigint, v.max_attempts::bigint, v.sends::bigint,
        v.max_sends::bigint, v.expires_at, v.resend_available_at, v.recipient, v.channel, v.code_length::bigint,
        v.code_digest, v.sealed_code, now()
    FROM q LEFT JOIN v ON v.id = q.id AND v.app_id = q.app_id;
END;
$$;

