-- pgbench_send.sql for n sends in one statement (one transaction, one commit): n verifications from
-- generate_series(1, n), their n deliveries and their 2n events. The batched ceiling: how far past
-- the one-send baseline PostgreSQL goes when the commit and the round trip are shared by n sends.
-- Random ids etc. per row (random() and clock_timestamp() are volatile: evaluated for each row).
-- Run with -D appid=app_... -D n=8 (bench/run runs it prepared, as otp runs its statements).
WITH v AS (
    INSERT INTO otp.verifications (id, app_id, recipient, country, channel, sender, locale, code_digest,
        sealed_code, code_length, ttl_seconds, max_attempts, max_sends, metadata, expires_at,
        resend_available_at)
    SELECT 'otp_' || substr(md5(random()::text || clock_timestamp()::text || g::text), 1, 26), :appid,
        '+55119' || lpad((random() * 99999999)::int::text, 8, '0'), 'BR', 'sms', NULL, NULL,
        sha256(convert_to(random()::text, 'UTF8')), NULL, 6, 300, 100, 5, '{}'::jsonb,
        now() + make_interval(secs => 300), now() + make_interval(secs => 30)
    FROM generate_series(1, CAST(:n AS integer)) AS g
    RETURNING id, app_id, channel, recipient, sender, expires_at, resend_available_at
), d AS (
    INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, sealed_code, expires_at,
        message_template, template_id, template_version, locale, whatsapp_template, whatsapp_language)
    SELECT id, app_id, channel, recipient, sender,
        sha256(convert_to(random()::text, 'UTF8')) || substr(sha256(convert_to(random()::text, 'UTF8')), 1, 2),
        expires_at, '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.',
        NULL, NULL, 'pt-BR', NULL, NULL FROM v
    RETURNING id, verification_id   -- to pair each delivery with its verification below
), e AS (
    INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
    SELECT x.event, v.app_id, v.id, 'ak_pgbench', '127.0.0.1', x.details
    FROM v JOIN d ON d.verification_id = v.id, LATERAL (VALUES
        ('send_requested', jsonb_build_object('channel', v.channel)),
        ('delivery_queued', jsonb_build_object('delivery_id', d.id, 'channel', v.channel))
    ) AS x (event, details)
)
SELECT v.expires_at, v.resend_available_at FROM v;
