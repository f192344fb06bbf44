-- Sends from the app's own database transaction: otp.request_verification(...) inserts the
-- verification and its delivery in the caller's transaction (a rollback requests nothing), and the
-- worker makes the code when it first claims the delivery.

-- The limiter, as one function: the API's sends and request_verification charge the same counters
-- the same way. A counter only goes up while below its limit; when one did not, OT429 is raised
-- (DETAIL: the rule and the seconds until its window ends) and the caller's transaction rolls back,
-- the other counters' charges with it. Counters are charged in the order given (sorted by rule),
-- so concurrent charges take their row locks in one order and cannot deadlock.
CREATE FUNCTION otp.charge_counters(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    charged integer;
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
        RETURNING c.rule
    )
    SELECT (SELECT count(*) FROM charges), (SELECT count(*) FROM done),
        (SELECT rule || ' ' || ceil(extract(epoch FROM window_start + make_interval(secs => win) - now()))
         FROM charges WHERE rule NOT IN (SELECT rule FROM done) ORDER BY rule LIMIT 1)
    INTO wanted, charged, refused;
    IF charged < wanted THEN
        RAISE EXCEPTION USING ERRCODE = 'OT429', MESSAGE = 'rate limited', DETAIL = refused;
    END IF;
    RETURN true;
END;
$$;

-- The send rules and their defaults, as the Swift core has them (RateLimitRule; a test keeps the
-- two in step): what request_verification charges when the app sets no limit of its own.
CREATE TABLE otp.send_limit_defaults (
    rule           text PRIMARY KEY,
    scope          text NOT NULL,
    window_seconds integer NOT NULL,
    default_limit  integer NOT NULL
);
INSERT INTO otp.send_limit_defaults VALUES
    ('app_1h', 'app', 3600, 1000), ('country_1h', 'country', 3600, 500), ('ip_5m', 'ip', 300, 30),
    ('prefix_1h', 'prefix', 3600, 20), ('recipient_10m', 'recipient', 600, 5),
    ('recipient_1d', 'recipient', 86400, 20), ('recipient_1h', 'recipient', 3600, 10);

-- A delivery queued by request_verification waits for the worker to make its code and message:
-- `requested_template` is what the caller asked for, `prepared` false until the worker has done it.
ALTER TABLE otp.deliveries ADD COLUMN prepared boolean NOT NULL DEFAULT true,
    ADD COLUMN requested_template text;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otp_producer') THEN
        CREATE ROLE otp_producer NOLOGIN;
    END IF;
END;
$$;

CREATE FUNCTION otp.request_verification(appid text, recipient text, channel text DEFAULT NULL,
    locale text DEFAULT NULL, template text DEFAULT NULL, metadata jsonb DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    app otp.apps;
    to_number text := request_verification.recipient;
    chosen text;
    id text;
    random_bytes bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
    delivery_id bigint;
    rules text[] := '{}';
    scope_keys text[] := '{}';
    max_counts bigint[] := '{}';
    windows bigint[] := '{}';
    limit_rule record;
    allowed integer;
    scope_key text;
BEGIN
    SELECT * INTO app FROM otp.apps a WHERE a.id = request_verification.appid;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400', MESSAGE = 'unknown app', DETAIL = coalesce(request_verification.appid, '');
    END IF;
    IF to_number IS NULL OR to_number !~ '^\+[1-9][0-9]{6,14}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400', MESSAGE = 'the recipient must be an E.164 number, e.g. +14155550100';
    END IF;
    chosen := coalesce(request_verification.channel, app.default_channel);
    IF NOT chosen = ANY (app.channels) THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400', MESSAGE = 'the app does not allow this channel', DETAIL = chosen;
    END IF;
    IF request_verification.locale IS NOT NULL
        AND request_verification.locale !~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400', MESSAGE = 'the locale must be a BCP 47 tag such as pt-BR';
    END IF;
    IF length(request_verification.template) NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400', MESSAGE = 'the template must be 1 to 64 characters';
    END IF;
    IF request_verification.metadata IS NOT NULL AND (jsonb_typeof(request_verification.metadata) <> 'object'
        OR (SELECT count(*) FROM jsonb_each(request_verification.metadata)) > 10
        OR EXISTS (SELECT 1 FROM jsonb_each(request_verification.metadata) m
            WHERE jsonb_typeof(m.value) <> 'string' OR length(m.key) NOT BETWEEN 1 AND 128
                OR length(m.value #>> '{}') NOT BETWEEN 1 AND 128)) THEN
        RAISE EXCEPTION USING ERRCODE = 'OT400',
            MESSAGE = 'metadata must be an object of at most 10 strings, keys and values 1 to 128 characters';
    END IF;

    -- The send limits, as the API charges them. The caller's IP is not known here (ip_5m does not
    -- apply) and the country only once libphonenumber has read the number: the worker charges
    -- country_1h when it claims the delivery.
    FOR limit_rule IN SELECT * FROM otp.send_limit_defaults ORDER BY rule LOOP
        allowed := coalesce((app.rate_limits ->> limit_rule.rule)::integer, limit_rule.default_limit);
        scope_key := CASE limit_rule.scope
            WHEN 'recipient' THEN app.id || '|' || to_number
            WHEN 'app' THEN app.id
            WHEN 'prefix' THEN app.id || '|' || left(to_number, length(to_number) - 4)
        END;
        CONTINUE WHEN allowed <= 0 OR scope_key IS NULL;
        -- A whole app's budget is split in shards from 64 on, as RateLimits.sendCharges splits it.
        IF limit_rule.rule = 'app_1h' AND allowed >= 64 THEN
            scope_key := scope_key || '#' || floor(random() * 16)::integer;
            allowed := allowed / 16;
        END IF;
        rules := rules || limit_rule.rule;
        scope_keys := scope_keys || scope_key;
        max_counts := max_counts || allowed::bigint;
        windows := windows || limit_rule.window_seconds::bigint;
    END LOOP;
    PERFORM otp.charge_counters(rules, scope_keys, max_counts, windows);

    -- An id as Identifiers.verificationID makes them: otp_ and 26 of [0-9a-z] (from the random
    -- bytes of two UUIDs, leaving out their version and variant bytes).
    SELECT 'otp_' || string_agg(substr('0123456789abcdefghijklmnopqrstuvwxyz', get_byte(random_bytes, i) % 36 + 1, 1),
        '' ORDER BY i)
    INTO id FROM unnest(ARRAY[0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 25, 26, 27,
        28, 29]) AS i;

    INSERT INTO otp.verifications (id, app_id, recipient, channel, sender, locale, code_length, ttl_seconds,
        max_attempts, max_sends, metadata, expires_at, resend_available_at)
    VALUES (id, app.id, to_number, chosen, app.sender_name, request_verification.locale, app.code_length,
        app.ttl_seconds, app.max_attempts, app.max_sends, coalesce(request_verification.metadata, '{}'),
        now() + make_interval(secs => app.ttl_seconds), now() + make_interval(secs => app.resend_cooldown_seconds));
    INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, expires_at, locale,
        requested_template, prepared)
    VALUES (id, app.id, chosen, to_number, app.sender_name, now() + make_interval(secs => app.ttl_seconds),
        request_verification.locale, request_verification.template, false)
    RETURNING deliveries.id INTO delivery_id;
    INSERT INTO otp.events (event, app_id, verification_id, actor, details) VALUES
        ('send_requested', app.id, id, 'sql:' || session_user,
            jsonb_build_object('channel', chosen, 'via', 'request_verification')),
        ('delivery_queued', app.id, id, 'sql:' || session_user,
            jsonb_build_object('delivery_id', delivery_id, 'channel', chosen));
    -- Delivered at commit, and not at all on rollback.
    PERFORM pg_notify('otp_deliveries', '');
    RETURN id;
END;
$$;

REVOKE ALL ON FUNCTION otp.request_verification(text, text, text, text, text, jsonb) FROM PUBLIC;
GRANT USAGE ON SCHEMA otp TO otp_producer;
GRANT EXECUTE ON FUNCTION otp.request_verification(text, text, text, text, text, jsonb) TO otp_producer;

-- otp.grant_runtime_role() grants the runtime EXECUTE on every function of the schema; this one is
-- the producer's alone. Re-run by every `otp migrate`, after the runtime's grants.
CREATE OR REPLACE FUNCTION otp.grant_runtime_role() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA otp TO otp_runtime;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA otp TO otp_runtime;
    REVOKE UPDATE, DELETE, TRUNCATE ON otp.events FROM otp_runtime;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.schema_migrations, otp.audit_policy FROM otp_runtime;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA otp TO otp_runtime;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA otp TO otp_runtime;
    REVOKE EXECUTE ON FUNCTION otp.grant_runtime_role() FROM otp_runtime, PUBLIC;
    REVOKE EXECUTE ON FUNCTION otp.request_verification(text, text, text, text, text, jsonb) FROM otp_runtime;
END;
$$;
