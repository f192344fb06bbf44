-- Writes a batch of sends in one transaction, in one statement where it can:
--   1. the sends' idempotency keys, inserted in bytewise order (a single send takes its key before
--      its counters too, so the order holds across batches and single sends); a key already there
--      answers its request with the stored digest and answer, for the service to replay or refuse
--      (it compares the digests), and nothing else is done for it;
--   2. the counters, locked first (otp.lock_counters), then charged one send after another (each
--      refusal its own; a refused send's key is taken back, as its rollback would alone);
--   3. every other send's verification, delivery and events in one statement: the only place that
--      inserts verifications. otp.request_verification writes through here too, unprepared (no
--      code yet: `prepared` false, the worker makes it).
-- Before the counters, each send with a spend cap charges its estimate to its app's spend of the day
-- (otp.spend_daily), refused past the cap ('spend_limit_1d'); a send a counter then refuses gives it
-- back.
-- The fraud guard has judged each send before (OTPCore's FraudGuard): a send it refused (`blocked`)
-- charges nothing and writes only its `fraud_blocked` event; a flagged one writes `fraud_flagged`
-- with its other events. Each judged send counts in its scopes (`fraud_scopes`, otp.fraud_recent
-- and otp.fraud_daily): as sent, flagged or blocked.
-- The service stores the answers of the keyed sends in the same transaction, and sends a second
-- request with a key already in the batch on its own, after it.
CREATE OR REPLACE FUNCTION otp.send_batch(requests jsonb)
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

    -- Sends the guard refused.
    FOR r IN
        SELECT q.n FROM jsonb_to_recordset(requests) AS q (n integer, blocked boolean)
        WHERE q.blocked AND NOT q.n = ANY (taken)
    LOOP
        refusals := refusals || jsonb_build_object(r.n::text, 'fraud_blocked');
    END LOOP;

    -- The apps' spend caps: each send's estimate is charged against its app's spend of the UTC day,
    -- refused past the cap (the rows locked first, in order, as the counters below are).
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(requests) AS x WHERE x ->> 'spend_limit' IS NOT NULL) THEN
        INSERT INTO otp.spend_daily AS s (app_id, day, spent)
        SELECT DISTINCT q.app_id, (now() AT TIME ZONE 'UTC')::date, 0
        FROM jsonb_to_recordset(requests) AS q (app_id text, spend_limit numeric)
        WHERE q.spend_limit IS NOT NULL ORDER BY 1
        ON CONFLICT DO NOTHING;
        PERFORM 1 FROM otp.spend_daily s
        WHERE s.day = (now() AT TIME ZONE 'UTC')::date AND s.app_id IN (
            SELECT q.app_id FROM jsonb_to_recordset(requests) AS q (app_id text, spend_limit numeric)
            WHERE q.spend_limit IS NOT NULL)
        ORDER BY s.app_id FOR UPDATE;
        FOR r IN
            SELECT q.n, q.app_id, q.spend_limit, q.spend_estimate
            FROM jsonb_to_recordset(requests) AS q (n integer, app_id text, spend_limit numeric, spend_estimate numeric)
            WHERE q.spend_limit IS NOT NULL AND NOT q.n = ANY (taken) AND NOT refusals ? q.n::text
            ORDER BY q.n
        LOOP
            UPDATE otp.spend_daily s SET spent = s.spent + r.spend_estimate
            WHERE s.app_id = r.app_id AND s.day = (now() AT TIME ZONE 'UTC')::date
                AND s.spent + r.spend_estimate <= r.spend_limit;
            IF NOT FOUND THEN
                refusals := refusals || jsonb_build_object(r.n::text, 'spend_limit_1d');
            END IF;
        END LOOP;
    END IF;

    IF EXISTS (SELECT 1 FROM jsonb_array_elements(requests) AS x WHERE jsonb_array_length(x -> 'rules') > 0) THEN
        -- Every counter the batch will charge is locked first (otp.lock_counters).
        SELECT otp.lock_counters(array_agg(x.rule), array_agg(x.scope_key), array_agg(x.max_count),
            array_agg(x.win))
        INTO counters_locked
        FROM jsonb_to_recordset(requests) AS q (n integer, rules text[], scope_keys text[], max_counts bigint[],
                windows bigint[]),
            unnest(q.rules, q.scope_keys, q.max_counts, q.windows) AS x (rule, scope_key, max_count, win)
        WHERE NOT q.n = ANY (taken) AND NOT refusals ? q.n::text;

        FOR r IN
            SELECT q.n, q.rules, q.scope_keys, q.max_counts, q.windows, q.app_id, q.spend_limit, q.spend_estimate
            FROM jsonb_to_recordset(requests) AS q (n integer, rules text[], scope_keys text[], max_counts bigint[],
                windows bigint[], app_id text, spend_limit numeric, spend_estimate numeric)
            WHERE cardinality(q.rules) > 0 AND NOT q.n = ANY (taken) AND NOT refusals ? q.n::text
            ORDER BY q.n
        LOOP
            refusal := otp.charge_counters_or_refuse(r.rules, r.scope_keys, r.max_counts, r.windows);
            IF refusal IS NOT NULL THEN
                refusals := refusals || jsonb_build_object(r.n::text, refusal);
                IF r.spend_limit IS NOT NULL THEN
                    -- The send's estimate, charged above, is given back.
                    UPDATE otp.spend_daily s SET spent = s.spent - r.spend_estimate
                    WHERE s.app_id = r.app_id AND s.day = (now() AT TIME ZONE 'UTC')::date;
                END IF;
            END IF;
        END LOOP;
    END IF;

    -- A refused send's key is taken back, as its rollback would alone.
    IF refusals <> '{}' THEN
        DELETE FROM otp.idempotency_keys k
        USING jsonb_to_recordset(requests) AS q (n integer, account_id bigint, idempotency_key text)
        WHERE refusals ? q.n::text AND q.idempotency_key IS NOT NULL
            AND k.account_id = q.account_id AND k.key = q.idempotency_key;
    END IF;

    RETURN QUERY
    WITH q AS (
        SELECT * FROM jsonb_to_recordset(requests) AS x (
            n integer, id text, app_id text, recipient text, country text, channel text, sender text, locale text,
            code_digest bytea, kept_code bytea, code_length bigint, ttl_seconds bigint, max_attempts bigint,
            max_sends bigint, metadata jsonb, resend_cooldown_seconds bigint, sealed_code bytea,
            message_template text, template_id text, template_version bigint, message_locale text,
            whatsapp_template text, whatsapp_language text, actor text, ip text, test boolean, via text,
            requested_template text, prepared boolean, fraud_scopes text[], fraud_event text, fraud_details jsonb,
            blocked boolean, transaction jsonb, trace_parent text)
        WHERE NOT refusals ? x.n::text AND NOT x.n = ANY (taken)
    ), judged AS (
        -- Every judged send the batch decided: written (q) or refused by the guard.
        SELECT x.n, x.app_id, x.fraud_scopes, x.fraud_event, x.fraud_details, x.actor, x.ip,
            coalesce(x.blocked, false) AS blocked
        FROM jsonb_to_recordset(requests) AS x (n integer, app_id text, fraud_scopes text[], fraud_event text,
            fraud_details jsonb, actor text, ip text, blocked boolean)
        WHERE x.fraud_scopes IS NOT NULL AND NOT x.n = ANY (taken)
            AND (x.blocked OR NOT refusals ? x.n::text)
    ), counts AS (
        SELECT j.app_id, s.scope, count(*) FILTER (WHERE NOT j.blocked) AS sent,
            count(*) FILTER (WHERE j.fraud_event = 'fraud_flagged') AS flagged,
            count(*) FILTER (WHERE j.blocked) AS blocked
        FROM judged j, unnest(j.fraud_scopes) AS s (scope)
        GROUP BY j.app_id, s.scope
    ), shard AS (
        -- One of the scope's 8 rows per batch (see migration 0022).
        SELECT floor(random() * 8)::smallint AS n
    ), fr AS (
        INSERT INTO otp.fraud_recent AS k (app_id, scope, bucket, shard, sent, flagged, blocked)
        SELECT c.app_id, c.scope, date_bin('5 minutes', now(), timestamptz '2000-01-01'), shard.n, c.sent, c.flagged,
            c.blocked
        FROM counts c, shard ORDER BY c.app_id, c.scope COLLATE "C"
        ON CONFLICT (app_id, scope, bucket, shard) DO UPDATE SET sent = k.sent + EXCLUDED.sent,
            flagged = k.flagged + EXCLUDED.flagged, blocked = k.blocked + EXCLUDED.blocked
    ), fd AS (
        INSERT INTO otp.fraud_daily AS k (app_id, scope, day, shard, sent, flagged, blocked)
        SELECT c.app_id, c.scope, (now() AT TIME ZONE 'UTC')::date, shard.n, c.sent, c.flagged, c.blocked
        FROM counts c, shard ORDER BY c.app_id, c.scope COLLATE "C"
        ON CONFLICT (app_id, scope, day, shard) DO UPDATE SET sent = k.sent + EXCLUDED.sent,
            flagged = k.flagged + EXCLUDED.flagged, blocked = k.blocked + EXCLUDED.blocked
    ), fe AS (
        INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
        SELECT j.fraud_event, j.app_id, CASE WHEN NOT j.blocked THEN q.id END, j.actor, j.ip, j.fraud_details
        FROM judged j LEFT JOIN q ON q.n = j.n
        WHERE j.fraud_event IS NOT NULL
        ORDER BY j.n
    ), v AS (
        INSERT INTO otp.verifications AS v (id, app_id, recipient, country, channel, sender, locale, code_digest,
            sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
            resend_available_at, test, fraud_scopes, transaction)
        SELECT q.id, q.app_id, q.recipient, q.country, q.channel, q.sender, q.locale, q.code_digest, q.kept_code,
            q.code_length, q.ttl_seconds, q.max_attempts, q.max_sends, q.metadata,
            now() + make_interval(secs => q.ttl_seconds), now() + make_interval(secs => q.resend_cooldown_seconds),
            coalesce(q.test, false), q.fraud_scopes, q.transaction
        FROM q ORDER BY q.n
        RETURNING v.id, v.expires_at, v.resend_available_at
    ), d AS (
        INSERT INTO otp.deliveries AS d (verification_id, app_id, channel, recipient, sender, sealed_code,
            expires_at, message_template, template_id, template_version, locale, whatsapp_template,
            whatsapp_language, requested_template, prepared, trace_parent)
        SELECT q.id, q.app_id, q.channel, q.recipient, q.sender, q.sealed_code, v.expires_at,
            q.message_template, q.template_id, q.template_version, q.message_locale, q.whatsapp_template,
            q.whatsapp_language, q.requested_template, coalesce(q.prepared, true), q.trace_parent
        FROM q JOIN v ON v.id = q.id ORDER BY q.n
        RETURNING d.id, d.verification_id
    ), e AS (
        INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
        SELECT x.event, q.app_id, q.id, q.actor, q.ip, x.details
        FROM q JOIN d ON d.verification_id = q.id,
            LATERAL (VALUES
                ('send_requested', jsonb_strip_nulls(jsonb_build_object('channel', q.channel, 'via', q.via,
                    'transaction', q.transaction)), 1),
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
