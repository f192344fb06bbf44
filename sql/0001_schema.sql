-- The whole data model of otp, in schema `otp`.
-- The migrator runs each statement on its own (one statement per extended-protocol query), so
-- statements end with a semicolon at the end of a line and function bodies use $$ quoting.

CREATE SCHEMA IF NOT EXISTS otp;

CREATE TABLE otp.accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE otp.apps (
    id                      text PRIMARY KEY,
    account_id              bigint NOT NULL REFERENCES otp.accounts (id),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code_length             smallint NOT NULL DEFAULT 6 CHECK (code_length BETWEEN 6 AND 10),
    ttl_seconds             integer NOT NULL DEFAULT 300 CHECK (ttl_seconds BETWEEN 60 AND 600),
    max_attempts            integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    max_sends               integer NOT NULL DEFAULT 5 CHECK (max_sends BETWEEN 1 AND 100),
    resend_cooldown_seconds integer NOT NULL DEFAULT 30 CHECK (resend_cooldown_seconds BETWEEN 0 AND 3600),
    channels                text[] NOT NULL DEFAULT '{sms,whatsapp}' CHECK (channels <@ '{sms,whatsapp}' AND cardinality(channels) > 0),
    default_channel         text NOT NULL DEFAULT 'sms' CHECK (default_channel IN ('sms', 'whatsapp')),
    sender_name             text,
    resend_policy           text NOT NULL DEFAULT 'new_code' CHECK (resend_policy IN ('new_code', 'same_code')),
    default_template        text,
    default_locale          text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (default_channel = ANY (channels))
);
CREATE INDEX apps_account_idx ON otp.apps (account_id);

-- A key's secret is never stored: only its SHA-256 digest.
CREATE TABLE otp.api_keys (
    key_id        text PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES otp.accounts (id),
    secret_digest bytea NOT NULL CHECK (length(secret_digest) = 32),
    -- The apps the key may use; NULL means every app of the account.
    app_ids       text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE otp.verifications (
    id                  text PRIMARY KEY,
    app_id              text NOT NULL REFERENCES otp.apps (id),
    recipient           text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    sender              text,
    locale              text,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'verified', 'locked', 'expired', 'canceled')),
    -- HMAC-SHA256 of the current code, bound to the id; never the code itself.
    code_digest         bytea,
    -- The code sealed with AES-GCM, kept only for apps whose resend policy is same_code, and only
    -- while the verification is pending.
    sealed_code         bytea,
    code_length         smallint NOT NULL,
    ttl_seconds         integer NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL,
    sends               integer NOT NULL DEFAULT 1,
    max_sends           integer NOT NULL,
    metadata            jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    resend_available_at timestamptz NOT NULL,
    verified_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'pending' OR sealed_code IS NULL)
);
CREATE INDEX verifications_app_created_idx ON otp.verifications (app_id, created_at DESC, id DESC);
CREATE INDEX verifications_recipient_idx ON otp.verifications (app_id, recipient, created_at DESC);
CREATE INDEX verifications_pending_expiry_idx ON otp.verifications (expires_at) WHERE status = 'pending';

-- The delivery job queue. Workers claim queued rows with FOR UPDATE SKIP LOCKED through the partial
-- index below, which holds only claimable rows, in claim order.
CREATE TABLE otp.deliveries (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verification_id     text NOT NULL REFERENCES otp.verifications (id),
    app_id              text NOT NULL REFERENCES otp.apps (id),
    channel             text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    recipient           text NOT NULL,
    sender              text,
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'canceled')),
    -- The code sealed with AES-GCM; erased when the delivery reaches a final state.
    sealed_code         bytea,
    attempts            integer NOT NULL DEFAULT 0,
    run_at              timestamptz NOT NULL DEFAULT now(),
    locked_until        timestamptz,
    locked_by           text,
    expires_at          timestamptz NOT NULL,
    provider            text,
    provider_message_id text,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (state IN ('queued', 'sending') OR sealed_code IS NULL)
);
CREATE INDEX deliveries_claimable_idx ON otp.deliveries (run_at, id) WHERE state = 'queued';
CREATE INDEX deliveries_leased_idx ON otp.deliveries (locked_until) WHERE state = 'sending';
CREATE INDEX deliveries_verification_idx ON otp.deliveries (verification_id, id DESC);
CREATE UNIQUE INDEX deliveries_provider_message_idx ON otp.deliveries (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
ALTER TABLE otp.deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE otp.delivery_attempts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id         bigint NOT NULL REFERENCES otp.deliveries (id) ON DELETE CASCADE,
    verification_id     text NOT NULL,
    app_id              text NOT NULL,
    provider            text NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('accepted', 'retryable', 'permanent')),
    http_status         integer,
    provider_message_id text,
    error_code          text,
    error               text,
    latency_ms          integer NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_verification_idx ON otp.delivery_attempts (verification_id, at DESC);
CREATE INDEX delivery_attempts_app_idx ON otp.delivery_attempts (app_id, at DESC, id DESC);

CREATE TABLE otp.verify_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verification_id text NOT NULL REFERENCES otp.verifications (id),
    app_id          text NOT NULL,
    success         boolean NOT NULL,
    reason          text NOT NULL,
    ip              text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verify_attempts_verification_idx ON otp.verify_attempts (verification_id, at DESC);
CREATE INDEX verify_attempts_app_idx ON otp.verify_attempts (app_id, at DESC, id DESC);

-- The audit trail: append-only. Only the retention job may delete, by setting otp.allow_prune.
CREATE TABLE otp.events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    event           text NOT NULL,
    app_id          text,
    verification_id text,
    actor           text,
    ip              text,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_app_idx ON otp.events (app_id, id DESC);
CREATE INDEX events_verification_idx ON otp.events (verification_id, id DESC);

CREATE FUNCTION otp.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('otp.allow_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'otp.events is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON otp.events
    FOR EACH ROW EXECUTE FUNCTION otp.refuse_event_change();

-- Idempotency-Key: the first answer to a request, replayed for 24 hours.
CREATE TABLE otp.idempotency_keys (
    account_id      bigint NOT NULL REFERENCES otp.accounts (id),
    key             text NOT NULL,
    request_digest  bytea NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON otp.idempotency_keys (created_at);

-- Fixed-window counters for rate limits, shared by every API instance; rows past expires_at are
-- dead and swept.
CREATE TABLE otp.rate_limit_counters (
    rule         text NOT NULL,
    scope_key    text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL DEFAULT 0,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (rule, scope_key, window_start)
);
CREATE INDEX rate_limit_counters_expiry_idx ON otp.rate_limit_counters (expires_at);

CREATE TABLE otp.daily_reports (
    app_id                   text NOT NULL REFERENCES otp.apps (id),
    day                      date NOT NULL,
    channel                  text NOT NULL,
    country                  text NOT NULL,
    verifications            integer NOT NULL DEFAULT 0,
    sent                     integer NOT NULL DEFAULT 0,
    delivered                integer NOT NULL DEFAULT 0,
    failed                   integer NOT NULL DEFAULT 0,
    verified                 integer NOT NULL DEFAULT 0,
    expired                  integer NOT NULL DEFAULT 0,
    locked                   integer NOT NULL DEFAULT 0,
    delivery_latency_ms_p50  integer,
    delivery_latency_ms_p95  integer,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, day, channel, country)
);
