-- Sends from the app's own database transaction: writes the verification and its delivery in the
-- caller's transaction (a rollback requests nothing), through otp.send_batch as every send does.
-- The caller's login role must have been granted the app's account (otp.producer_grants,
-- `otp producers grant`), else OT403; OT400 for an argument that is not of the function's shape
-- (an E.164 number, a channel of the app, a BCP 47 tag, a metadata object).
--
-- The rules are not here: the worker applies the API's own (`VerificationService.prepare`: the
-- number by libphonenumber, countries, line types, every send limit, the message) when it first
-- claims the delivery, and a send they refuse ends `canceled` with the reason in a `refused`
-- event. The shape checks below can only refuse earlier what those rules refuse too.
CREATE OR REPLACE FUNCTION otp.request_verification(appid text, recipient text, channel text DEFAULT NULL,
    locale text DEFAULT NULL, template text DEFAULT NULL, metadata jsonb DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp AS $$
#variable_conflict use_column
DECLARE
    app otp.apps;
    to_number text := request_verification.recipient;
    chosen text;
    id text;
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

    id := otp.new_verification_id();
    -- The one write of every send (the API's too): verification, delivery and events. The country
    -- is unknown ('ZZ') until the worker has parsed the number.
    PERFORM otp.send_batch(jsonb_build_array(jsonb_build_object(
        'n', 1, 'id', id, 'app_id', app.id, 'recipient', to_number, 'country', 'ZZ', 'channel', chosen,
        'sender', app.sender_name, 'locale', request_verification.locale,
        'message_locale', request_verification.locale, 'code_length', app.code_length,
        'ttl_seconds', app.ttl_seconds, 'max_attempts', app.max_attempts, 'max_sends', app.max_sends,
        'metadata', coalesce(request_verification.metadata, '{}'),
        'resend_cooldown_seconds', app.resend_cooldown_seconds, 'actor', 'sql:' || session_user,
        'via', 'request_verification', 'requested_template', request_verification.template, 'prepared', false)));
    PERFORM pg_notify('otp_deliveries', '');
    RETURN id;
END;
$$;
