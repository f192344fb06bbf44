-- The events to tell the app, for the audit events of a statement that are ones. Every change the
-- webhooks report writes its audit event in the change's own transaction, so a trigger on
-- otp.events queues the webhooks in that same transaction, whichever statement (send, worker,
-- receipt, verify, expire) made the change. Once per statement, over the rows it inserted (a
-- batch of outcomes is one statement): an AFTER trigger sees the rows its statement changed.
CREATE OR REPLACE FUNCTION otp.queue_app_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    queued integer;
BEGIN
    INSERT INTO otp.webhook_events (app_id, verification_id, type, body)
    SELECT a.id, v.id, e.kind, jsonb_build_object(
        'type', e.kind,
        'timestamp', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'data', jsonb_build_object(
            'verification_id', v.id, 'appid', v.app_id, 'status', otp.effective_status(v.status, v.expires_at),
            'channel', v.channel,
            -- Masked as /otp/status masks it: every digit but the last four.
            'recipient', '+' || repeat('*', greatest(length(v.recipient) - 5, 0)) || right(v.recipient, 4),
            'delivery_status', d.state, 'provider', coalesce(e.details ->> 'provider', d.provider),
            'error_code', coalesce(e.details ->> 'error_code', e.details ->> 'reason'),
            'attempts', v.attempts))::text
    FROM (
        SELECT n.id, n.at, n.app_id, n.verification_id, n.details, CASE n.event
            WHEN 'delivery_sent' THEN 'delivery.sent'
            WHEN 'delivery_delivered' THEN 'delivery.delivered'
            WHEN 'delivery_failed' THEN 'delivery.failed'
            WHEN 'verify_succeeded' THEN 'verification.verified'
            WHEN 'locked' THEN 'verification.locked'
            WHEN 'expired' THEN 'verification.expired'
        END AS kind
        FROM inserted n
        WHERE n.event IN ('delivery_sent', 'delivery_delivered', 'delivery_failed', 'verify_succeeded', 'locked',
            'expired') AND n.verification_id IS NOT NULL
    ) e
    JOIN otp.apps a ON a.id = e.app_id AND a.webhook_url IS NOT NULL
    JOIN otp.verifications v ON v.id = e.verification_id
    -- The delivery the event names; for a verification's events, its latest delivery.
    LEFT JOIN LATERAL (
        SELECT x.state, x.provider FROM otp.deliveries x
        WHERE x.verification_id = v.id
            AND (e.details ->> 'delivery_id' IS NULL OR x.id = (e.details ->> 'delivery_id')::bigint)
        ORDER BY x.id DESC LIMIT 1
    ) d ON true
    -- The webhook events' ids in the audit events' order: an app hears a verification's in order.
    ORDER BY e.id;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('otp_webhooks', '');
    END IF;
    RETURN NULL;
END;
$$;
