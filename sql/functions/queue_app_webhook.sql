-- The event to tell the app, for an audit event that is one. Every change the webhooks report
-- writes its audit event in the change's own transaction, so a trigger on otp.events queues the
-- webhook in that same transaction, whichever statement (send, worker, receipt, verify, expire)
-- made the change. An AFTER trigger sees the rows its statement changed.
CREATE OR REPLACE FUNCTION otp.queue_app_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE NEW.event
        WHEN 'delivery_sent' THEN 'delivery.sent'
        WHEN 'delivery_delivered' THEN 'delivery.delivered'
        WHEN 'delivery_failed' THEN 'delivery.failed'
        WHEN 'verify_succeeded' THEN 'verification.verified'
        WHEN 'locked' THEN 'verification.locked'
        WHEN 'expired' THEN 'verification.expired'
    END;
BEGIN
    INSERT INTO otp.webhook_events (app_id, verification_id, type, body)
    SELECT a.id, v.id, kind, jsonb_build_object(
        'type', kind,
        'timestamp', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'data', jsonb_build_object(
            'verification_id', v.id, 'appid', v.app_id, 'status', otp.effective_status(v.status, v.expires_at),
            'channel', v.channel,
            -- Masked as /otp/status masks it: every digit but the last four.
            'recipient', '+' || repeat('*', greatest(length(v.recipient) - 5, 0)) || right(v.recipient, 4),
            'delivery_status', d.state, 'provider', coalesce(NEW.details ->> 'provider', d.provider),
            'error_code', coalesce(NEW.details ->> 'error_code', NEW.details ->> 'reason'),
            'attempts', v.attempts))::text
    FROM otp.apps a
    JOIN otp.verifications v ON v.id = NEW.verification_id
    -- The delivery the event names; for a verification's events, its latest delivery.
    LEFT JOIN LATERAL (
        SELECT x.state, x.provider FROM otp.deliveries x
        WHERE x.verification_id = v.id
            AND (NEW.details ->> 'delivery_id' IS NULL OR x.id = (NEW.details ->> 'delivery_id')::bigint)
        ORDER BY x.id DESC LIMIT 1
    ) d ON true
    WHERE a.id = NEW.app_id AND a.webhook_url IS NOT NULL;
    IF FOUND THEN
        PERFORM pg_notify('otp_webhooks', '');
    END IF;
    RETURN NULL;
END;
$$;
