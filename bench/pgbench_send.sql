-- One send's SQL in one statement, with no rate limit to charge (bench/run runs it prepared and
-- parsed each time): the floor the service's own sends (batches of otp.send_batch) are measured by,
-- the verification, its delivery (with its message text) and two events, in one statement (one
-- implicit transaction). The NOTIFY that wakes the workers comes after, at most every 5 ms per API
-- process, and is left out. Random id, recipient, digest and seal. Run with -D appid=app_...
WITH v AS (
    INSERT INTO otp.verifications (id, app_id, recipient, country, channel, sender, locale, code_digest,
        sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
        resend_available_at)
    VALUES ('otp_' || substr(md5(random()::text || clock_timestamp()::text), 1, 26), :appid,
        '+55119' || lpad((random() * 99999999)::int::text, 8, '0'), 'BR', 'sms', NULL, NULL,
        sha256(convert_to(random()::text, 'UTF8')), NULL, 6, 300, 100, 5, '{}'::jsonb,
        now() + make_interval(secs => 300), now() + make_interval(secs => 30))
    RETURNING id, app_id, channel, recipient, sender, expires_at, resend_available_at
), d AS (
    INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, sealed_code, expires_at,
        message_template, template_id, template_version, locale, whatsapp_template, whatsapp_language)
    SELECT id, app_id, channel, recipient, sender,
        sha256(convert_to(random()::text, 'UTF8')) || substr(sha256(convert_to(random()::text, 'UTF8')), 1, 2),
        expires_at, '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.',
        NULL, NULL, 'pt-BR', NULL, NULL FROM v
    RETURNING id
), e AS (
    INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
    SELECT x.event, v.app_id, v.id, 'ak_pgbench', '127.0.0.1', x.details
    FROM v, d, LATERAL (VALUES
        ('send_requested', jsonb_build_object('channel', v.channel)),
        ('delivery_queued', jsonb_build_object('delivery_id', d.id, 'channel', v.channel))
    ) AS x (event, details)
)
SELECT v.expires_at, v.resend_available_at FROM v;
