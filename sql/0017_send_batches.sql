-- Group commit for sends: the sends that arrive together go to PostgreSQL as one call of
-- otp.send_batch in one transaction, instead of one transaction each. Each request keeps its own
-- answer: a limit that refuses one refuses only that one (its charges undone, the others'
-- kept), and any other error fails the whole call, which the service then retries one request at a
-- time, so no request is answered for a batch it was not committed in.

-- Charges one use to each counter, in the order given, each only while below its limit; a refusal
-- does not raise: the counters this call did charge are given back, and the refused rule and the
-- seconds until its window ends are returned ('rule seconds'); NULL when every counter took it.
CREATE FUNCTION otp.charge_counters_or_refuse(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    charged_rules text[];
    charged_keys text[];
    charged_windows timestamptz[];
    refused text;
BEGIN
    WITH charges AS (
        SELECT rule, scope_key, max_count, win,
            to_timestamp((floor(extract(epoch FROM now()) / win) * win)::float8) AS window_start
        FROM unnest(rules, scope_keys, max_counts, windows) AS x (rule, scope_key, max_count, win)
    ), done AS (
        INSERT INTO otp.rate_limit_counters AS c (rule, scope_key, window_start, count, expires_at, max_count)
        SELECT rule, scope_key, window_start, 1, window_start + make_interval(secs => win), max_count
        FROM charges
        ON CONFLICT (rule, scope_key, window_start) DO UPDATE
            SET count = c.count + 1, max_count = EXCLUDED.max_count
            WHERE c.count < EXCLUDED.max_count
        RETURNING c.rule, c.scope_key, c.window_start
    )
    SELECT (SELECT count(*) FROM charges),
        (SELECT array_agg(rule) FROM done), (SELECT array_agg(scope_key) FROM done),
        (SELECT array_agg(window_start) FROM done),
        (SELECT rule || ' ' || ceil(extract(epoch FROM window_start + make_interval(secs => win) - now()))
         FROM charges WHERE rule NOT IN (SELECT rule FROM done) ORDER BY rule LIMIT 1)
    INTO wanted, charged_rules, charged_keys, charged_windows, refused;
    IF coalesce(cardinality(charged_rules), 0) < wanted THEN
        UPDATE otp.rate_limit_counters c SET count = c.count - 1
        FROM unnest(charged_rules, charged_keys, charged_windows) AS x (rule, scope_key, window_start)
        WHERE (c.rule, c.scope_key, c.window_start) = (x.rule, x.scope_key, x.window_start);
        RETURN refused;
    END IF;
    RETURN NULL;
END;
$$;

-- The raising limiter (the API's charges, otp.request_verification) is this one and a raise: one
-- limiter for every path.
CREATE OR REPLACE FUNCTION otp.charge_counters(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    refused text := otp.charge_counters_or_refuse(rules, scope_keys, max_counts, windows);
BEGIN
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'OT429', MESSAGE = 'rate limited', DETAIL = refused;
    END IF;
    RETURN true;
END;
$$;

-- The sends of one batch, in order: for each, its charges, then (unless one refused) the
-- verification, its first delivery and two events, as SendStatement writes one send. Returns one
-- row per request: its place `n`, the refusal ('rule seconds') or the times the answer carries.
--
-- Before any charge, every counter the batch will charge is locked, sorted bytewise by rule, key and
-- window: a single send charges its counters in rule order too, one key per rule, so batches and
-- single sends all take counter locks in one order and cannot deadlock one another.
CREATE FUNCTION otp.send_batch(requests jsonb)
RETURNS TABLE (n integer, refused text, expires_at timestamptz, resend_available_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    delivery_id bigint;
    counters_locked integer;
BEGIN
    WITH wanted AS (
        SELECT DISTINCT x.rule, x.scope_key, x.max_count, x.win,
            to_timestamp((floor(extract(epoch FROM now()) / x.win) * x.win)::float8) AS window_start
        FROM jsonb_to_recordset(requests) AS q (rules text[], scope_keys text[], max_counts bigint[], windows bigint[]),
            unnest(q.rules, q.scope_keys, q.max_counts, q.windows) AS x (rule, scope_key, max_count, win)
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
        SELECT * FROM jsonb_to_recordset(requests) AS q (
            n integer, id text, app_id text, recipient text, country text, channel text, sender text, locale text,
            code_digest bytea, kept_code bytea, code_length bigint, ttl_seconds bigint, max_attempts bigint,
            max_sends bigint, metadata jsonb, resend_cooldown_seconds bigint, sealed_code bytea,
            message_template text, template_id text, template_version bigint, message_locale text,
            whatsapp_template text, whatsapp_language text, actor text, ip text, test boolean,
            rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
        ORDER BY q.n
    LOOP
        n := r.n;
        refused := NULL;
        expires_at := NULL;
        resend_available_at := NULL;
        IF cardinality(r.rules) > 0 THEN
            refused := otp.charge_counters_or_refuse(r.rules, r.scope_keys, r.max_counts, r.windows);
        END IF;
        IF refused IS NULL THEN
            INSERT INTO otp.verifications AS v (id, app_id, recipient, country, channel, sender, locale, code_digest,
                sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
                resend_available_at, test)
            VALUES (r.id, r.app_id, r.recipient, r.country, r.channel, r.sender, r.locale, r.code_digest, r.kept_code,
                r.code_length, r.ttl_seconds, r.max_attempts, r.max_sends, r.metadata,
                now() + make_interval(secs => r.ttl_seconds), now() + make_interval(secs => r.resend_cooldown_seconds),
                r.test)
            RETURNING v.expires_at, v.resend_available_at INTO expires_at, resend_available_at;
            INSERT INTO otp.deliveries AS d (verification_id, app_id, channel, recipient, sender, sealed_code,
                expires_at, message_template, template_id, template_version, locale, whatsapp_template,
                whatsapp_language)
            VALUES (r.id, r.app_id, r.channel, r.recipient, r.sender, r.sealed_code, send_batch.expires_at,
                r.message_template, r.template_id, r.template_version, r.message_locale, r.whatsapp_template,
                r.whatsapp_language)
            RETURNING d.id INTO delivery_id;
            INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details) VALUES
                ('send_requested', r.app_id, r.id, r.actor, r.ip, jsonb_build_object('channel', r.channel)),
                ('delivery_queued', r.app_id, r.id, r.actor, r.ip,
                    jsonb_build_object('delivery_id', delivery_id, 'channel', r.channel));
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
