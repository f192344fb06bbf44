-- Takes one use of each request's gate (verify_ip_5m), in request order, each refusing only its own
-- request, then locks the verifications of the requests that passed (FOR UPDATE, in id order) and
-- reads them. One row per request: `refused` ('rule seconds') for a refused one; for one that
-- passed, its verification's columns (its transaction as JSON text), or only `n` when the app has no
-- such verification.
CREATE OR REPLACE FUNCTION otp.lock_verify_batch(requests jsonb)
RETURNS TABLE (n integer, refused text, found boolean, status text, attempts bigint, max_attempts bigint,
    sends bigint, max_sends bigint, expires_at timestamptz, resend_available_at timestamptz, recipient text,
    channel text, code_length bigint, code_digest bytea, sealed_code bytea, read_at timestamptz, transaction text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    counters_locked integer;
    passed integer[] := '{}';
BEGIN
    SELECT otp.lock_counters(array_agg(q.gate_rule), array_agg(q.gate_key), array_agg(q.gate_max),
        array_agg(q.gate_window))
    INTO counters_locked
    FROM jsonb_to_recordset(requests) AS q (gate_rule text, gate_key text, gate_max bigint, gate_window bigint)
    WHERE q.gate_rule IS NOT NULL;

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
            w.resend_available_at, w.recipient, w.channel, w.code_length, w.code_digest, w.sealed_code,
            w.transaction
        FROM otp.verifications w
        -- By the key's index: the planner takes jsonb_to_recordset for 100 rows, and on a small
        -- table a join with that many would scan it.
        WHERE w.id = ANY ((SELECT array_agg(q.id) FROM q)::text[]) AND (w.id, w.app_id) IN (SELECT q.id, q.app_id FROM q)
        ORDER BY w.id COLLATE "C"
        FOR UPDATE
    )
    SELECT q.n, NULL::text, v.id IS NOT NULL, v.status, v.attempts::bigint, v.max_attempts::bigint, v.sends::bigint,
        v.max_sends::bigint, v.expires_at, v.resend_available_at, v.recipient, v.channel, v.code_length::bigint,
        v.code_digest, v.sealed_code, now(), v.transaction::text
    FROM q LEFT JOIN v ON v.id = q.id AND v.app_id = q.app_id;
END;
$$;
