-- Status webhooks to the app: per app a URL and a signing secret (sealed under the server's key
-- ring, never in plaintext), and a queue of events to POST there.
ALTER TABLE otp.apps ADD COLUMN webhook_url text, ADD COLUMN webhook_secret bytea,
    ADD CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL));

-- One row per event to deliver: a job kind of its own, claimed, leased and retried by the same
-- worker machinery as otp.deliveries (FOR UPDATE SKIP LOCKED through the partial index of queued
-- rows). The body is fixed when the event happens, so every retry sends the same bytes under the
-- same webhook-id; the URL and secret are read at each try, so a changed URL applies at once.
CREATE TABLE otp.webhook_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      text NOT NULL UNIQUE DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', ''),
    app_id          text NOT NULL REFERENCES otp.apps (id),
    verification_id text NOT NULL,
    type            text NOT NULL CHECK (type IN ('delivery.sent', 'delivery.delivered', 'delivery.failed',
                        'verification.verified', 'verification.locked', 'verification.expired')),
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'delivered', 'failed', 'canceled')),
    attempts        integer NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    locked_by       text,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_claimable_idx ON otp.webhook_events (run_at, id) WHERE state = 'queued';
CREATE INDEX webhook_events_leased_idx ON otp.webhook_events (locked_until) WHERE state = 'sending';
-- Events of one verification go out in the order they happened: one is claimed only when no
-- earlier one of its verification is still waiting or in flight.
CREATE INDEX webhook_events_unfinished_idx ON otp.webhook_events (verification_id, id)
    WHERE state IN ('queued', 'sending');
CREATE INDEX webhook_events_finished_idx ON otp.webhook_events (finished_at) WHERE finished_at IS NOT NULL;
ALTER TABLE otp.webhook_events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Every POST made, as GET /otp/attempts?kind=webhook lists them.
CREATE TABLE otp.webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_event_id bigint NOT NULL REFERENCES otp.webhook_events (id) ON DELETE CASCADE,
    verification_id  text NOT NULL,
    app_id           text NOT NULL,
    event            text NOT NULL,
    url              text NOT NULL,
    http_status      integer,
    error            text,
    latency_ms       integer NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_verification_idx ON otp.webhook_attempts (verification_id, at DESC);
CREATE INDEX webhook_attempts_app_idx ON otp.webhook_attempts (app_id, at DESC, id DESC);
CREATE INDEX webhook_attempts_event_idx ON otp.webhook_attempts (webhook_event_id);

-- The event to tell the app, for an audit event that is one. Every change the webhooks report
-- writes its audit event in the change's own transaction, so a trigger on otp.events queues the
-- webhook in that same transaction, whichever statement (send, worker, receipt, verify, expire)
-- made the change. An AFTER trigger sees the rows its statement changed.
CREATE FUNCTION otp.queue_app_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER events_queue_app_webhook AFTER INSERT ON otp.events
    FOR EACH ROW
    WHEN (NEW.event IN ('delivery_sent', 'delivery_delivered', 'delivery_failed', 'verify_succeeded', 'locked',
        'expired') AND NEW.verification_id IS NOT NULL)
    EXECUTE FUNCTION otp.queue_app_webhook();
