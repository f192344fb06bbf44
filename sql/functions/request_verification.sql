-- Sends from the app's own database transaction: inserts the verification and its delivery in
-- the caller's transaction (a rollback requests nothing); the worker makes the code when it first
-- claims the delivery. The caller's login role must have been granted the app's account
-- (otp.producer_grants, `otp producers grant`), else OT403; OT400 for a bad argument, OT429 when a
-- send limit refuses.
CREATE OR REPLACE FUNCTION otp.request_verification(appid text, recipient text, channel text DEFAULT NULL,
    locale text DEFAULT NULL, template text DEFAULT NULL, metadata jsonb DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp AS $$
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
    IF NOT EXISTS (
        SELECT 1 FROM otp.producer_grants g JOIN pg_roles r ON r.rolname = g.role_name
        WHERE g.account_id = app.account_id AND pg_has_role(session_user, r.oid, 'MEMBER')
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'OT403', MESSAGE = 'this role may not request verifications for the app''s account',
            HINT = 'otp producers grant ROLE --account NAME';
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

    FOR limit_rule IN SELECT * FROM otp.send_limit_defaults ORDER BY rule LOOP
        allowed := coalesce((app.rate_limits ->> limit_rule.rule)::integer, limit_rule.default_limit);
        scope_key := CASE limit_rule.scope
            WHEN 'recipient' THEN app.id || '|' || to_number
            WHEN 'app' THEN app.id
            WHEN 'prefix' THEN app.id || '|' || left(to_number, length(to_number) - 4)
        END;
        CONTINUE WHEN allowed <= 0 OR scope_key IS NULL;
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
    PERFORM pg_notify('otp_deliveries', '');
    RETURN id;
END;
$$;
