-- Group commit for verifies: the verifies that arrive together are decided in one transaction,
-- with one call of otp.lock_verify_batch, one statement for the recipients' guessing rows and one
-- statement that records every decision (VerifyStatements.swift), instead of a transaction of five
-- or six round trips each. A verify alone is a batch of one. Each request keeps its own answer: a
-- gate that refuses one refuses only that one; any other error fails the whole transaction, and the
-- service then decides each request again on its own. And otp.send_batch takes sends with an
-- idempotency key too, and writes a batch's sends in one statement (below).
--
-- Locks are taken in one order by every verify, alone or batched, so batches cannot deadlock one
-- another: the gate counters (bytewise), the verifications (by id), the guessing rows (by app and
-- recipient, bytewise), the failure counters (bytewise).

-- Locks the counters named (made at 0 when missing), sorted bytewise by rule, key and window: the
-- one order in which every batch, of sends or of verifies, takes its counters before it charges
-- any (a single send charges its counters in rule order, one key per rule, so it keeps this order
-- too), so batches and single calls cannot deadlock one another. Returns how many it locked.
CREATE FUNCTION otp.lock_counters(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS integer LANGUAGE sql AS $$
    WITH wanted AS (
        SELECT x.rule, x.scope_key, x.max_count, x.win,
            to_timestamp((floor(extract(epoch FROM now()) / x.win) * x.win)::float8) AS window_start
        FROM unnest(rules, scope_keys, max_counts, windows) AS x (rule, scope_key, max_count, win)
    ), locked AS (
        INSERT INTO otp.rate_limit_counters AS c (rule, scope_key, window_start, count, expires_at, max_count)
        SELECT DISTINCT ON (w.rule COLLATE "C", w.scope_key COLLATE "C", w.window_start)
            w.rule, w.scope_key, w.window_start, 0, w.window_start + make_interval(secs => w.win), w.max_count
        FROM wanted w
        ORDER BY w.rule COLLATE "C", w.scope_key COLLATE "C", w.window_start
        ON CONFLICT (rule, scope_key, window_start) DO UPDATE SET count = c.count
        RETURNING 1
    )
    SELECT count(*)::integer FROM locked
$$;

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
            w.resend_available_at, w.recipient, w.channel, w.code_length, w.code_digest, w.sealed_code
        FROM otp.verifications w
        -- By the key's index: the planner takes jsonb_to_recordset for 100 rows, and on a small
        -- table a join with that many would scan it.
        WHERE w.id = ANY ((SELECT array_agg(q.id) FROM q)::text[]) AND (w.id, w.app_id) IN (SELECT q.id, q.app_id FROM q)
        ORDER BY w.id COLLATE "C"
        FOR UPDATE
    )
    SELECT q.n, NULL::text, v.id IS NOT NULL, v.status, v.attempts::bigint, v.max_attempts::bigint, v.sends::bigint,
        v.max_sends::bigint, v.expires_at, v.resend_available_at, v.recipient, v.channel, v.code_length::bigint,
        v.code_digest, v.sealed_code, now()
    FROM q LEFT JOIN v ON v.id = q.id AND v.app_id = q.app_id;
END;
$$;


-- otp.send_batch (0017) wrote its sends one after another, three statements each, and took no send
-- with an idempotency key. It now takes those too, and writes the batch's sends in one statement:
--   1. the sends' idempotency keys, inserted in bytewise order (a single send takes its key before
--      its counters too, so the order holds across batches and single sends); a key already there
--      answers its request with the stored digest and answer, for the service to replay or refuse
--      (it compares the digests), and nothing else is done for it;
--   2. the counters, locked first (otp.lock_counters), then charged one send after another (each
--      refusal its own; a refused send's key is taken back, as its rollback would alone);
--   3. every other send's verification, delivery and events in one statement.
-- The service stores the answers of the keyed sends in the same transaction, and sends a second
-- request with a key already in the batch on its own, after it.
DROP FUNCTION otp.send_batch(jsonb);
CREATE FUNCTION otp.send_batch(requests jsonb)
RETURNS TABLE (n integer, refused text, expires_at timestamptz, resend_available_at timestamptz,
    stored_digest bytea, stored_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    r record;
    counters_locked integer;
    refusal text;
    refusals jsonb := '{}';
    taken integer[] := '{}';
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(requests) AS x WHERE x ->> 'idempotency_key' IS NOT NULL) THEN
        DELETE FROM otp.idempotency_keys k
        USING jsonb_to_recordset(requests) AS q (account_id bigint, idempotency_key text)
        WHERE k.account_id = q.account_id AND k.key = q.idempotency_key AND k.created_at < now() - interval '24 hours';
        -- A concurrent request with the same key waits here until the first one commits.
        WITH wanted AS (
            SELECT q.account_id, q.idempotency_key, q.request_digest
            FROM jsonb_to_recordset(requests) AS q (account_id bigint, idempotency_key text, request_digest bytea)
            WHERE q.idempotency_key IS NOT NULL
        ), inserted AS (
            INSERT INTO otp.idempotency_keys AS k (account_id, key, request_digest)
            SELECT w.account_id, w.idempotency_key, w.request_digest FROM wanted w
            ORDER BY w.account_id, w.idempotency_key COLLATE "C"
            ON CONFLICT DO NOTHING
            RETURNING k.account_id, k.key
        )
        SELECT coalesce(array_agg(q.n), '{}') INTO taken
        FROM jsonb_to_recordset(requests) AS q (n integer, account_id bigint, idempotency_key text)
        WHERE q.idempotency_key IS NOT NULL
            AND (q.account_id, q.idempotency_key) NOT IN (SELECT i.account_id, i.key FROM inserted i);
        RETURN QUERY
        SELECT q.n, NULL::text, NULL::timestamptz, NULL::timestamptz, k.request_digest, coalesce(k.response_body, '')
        FROM jsonb_to_recordset(requests) AS q (n integer, account_id bigint, idempotency_key text)
        JOIN otp.idempotency_keys k ON k.account_id = q.account_id AND k.key = q.idempotency_key
        WHERE q.n = ANY (taken);
    END IF;

    IF EXISTS (SELECT 1 FROM jsonb_array_elements(requests) AS x WHERE jsonb_array_length(x -> 'rules') > 0) THEN
        -- Every counter the batch will charge is locked first (otp.lock_counters).
        SELECT otp.lock_counters(array_agg(x.rule), array_agg(x.scope_key), array_agg(x.max_count),
            array_agg(x.win))
        INTO counters_locked
        FROM jsonb_to_recordset(requests) AS q (n integer, rules text[], scope_keys text[], max_counts bigint[],
                windows bigint[]),
            unnest(q.rules, q.scope_keys, q.max_counts, q.windows) AS x (rule, scope_key, max_count, win)
        WHERE NOT q.n = ANY (taken);

        FOR r IN
            SELECT q.n, q.rules, q.scope_keys, q.max_counts, q.windows, q.account_id, q.idempotency_key
            FROM jsonb_to_recordset(requests) AS q (n integer, rules text[], scope_keys text[], max_counts bigint[],
                windows bigint[], account_id bigint, idempotency_key text)
            WHERE cardinality(q.rules) > 0 AND NOT q.n = ANY (taken)
            ORDER BY q.n
        LOOP
            refusal := otp.charge_counters_or_refuse(r.rules, r.scope_keys, r.max_counts, r.windows);
            IF refusal IS NOT NULL THEN
                refusals := refusals || jsonb_build_object(r.n::text, refusal);
                IF r.idempotency_key IS NOT NULL THEN
                    DELETE FROM otp.idempotency_keys k WHERE k.account_id = r.account_id AND k.key = r.idempotency_key;
                END IF;
            END IF;
        END LOOP;
    END IF;

    RETURN QUERY
    WITH q AS (
        SELECT * FROM jsonb_to_recordset(requests) AS x (
            n integer, id text, app_id text, recipient text, country text, channel text, sender text, locale text,
            code_digest bytea, kept_code bytea, code_length bigint, ttl_seconds bigint, max_attempts bigint,
            max_sends bigint, metadata jsonb, resend_cooldown_seconds bigint, sealed_code bytea,
            message_template text, template_id text, template_version bigint, message_locale text,
            whatsapp_template text, whatsapp_language text, actor text, ip text, test boolean)
        WHERE NOT refusals ? x.n::text AND NOT x.n = ANY (taken)
    ), v AS (
        INSERT INTO otp.verifications AS v (id, app_id, recipient, country, channel, sender, locale, code_digest,
            sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
            resend_available_at, test)
        SELECT q.id, q.app_id, q.recipient, q.country, q.channel, q.sender, q.locale, q.code_digest, q.kept_code,
            q.code_length, q.ttl_seconds, q.max_attempts, q.max_sends, q.metadata,
            now() + make_interval(secs => q.ttl_seconds), now() + make_interval(secs => q.resend_cooldown_seconds),
            q.test
        FROM q ORDER BY q.n
        RETURNING v.id, v.expires_at, v.resend_available_at
    ), d AS (
        INSERT INTO otp.deliveries AS d (verification_id, app_id, channel, recipient, sender, sealed_code,
            expires_at, message_template, template_id, template_version, locale, whatsapp_template,
            whatsapp_language)
        SELECT q.id, q.app_id, q.channel, q.recipient, q.sender, q.sealed_code, v.expires_at,
            q.message_template, q.template_id, q.template_version, q.message_locale, q.whatsapp_template,
            q.whatsapp_language
        FROM q JOIN v ON v.id = q.id ORDER BY q.n
        RETURNING d.id, d.verification_id
    ), e AS (
        INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
        SELECT x.event, q.app_id, q.id, q.actor, q.ip, x.details
        FROM q JOIN d ON d.verification_id = q.id,
            LATERAL (VALUES
                ('send_requested', jsonb_build_object('channel', q.channel), 1),
                ('delivery_queued', jsonb_build_object('delivery_id', d.id, 'channel', q.channel), 2)
            ) AS x (event, details, k)
        ORDER BY q.n, x.k
    )
    SELECT q.n, NULL::text, v.expires_at, v.resend_available_at, NULL::bytea, NULL::text FROM q JOIN v ON v.id = q.id
    UNION ALL
    SELECT x.key::integer, x.value, NULL::timestamptz, NULL::timestamptz, NULL::bytea, NULL::text
    FROM jsonb_each_text(refusals) AS x;
END;
$$;
