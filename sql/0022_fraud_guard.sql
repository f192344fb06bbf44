-- The fraud guard (OTPCore's FraudGuard): an app's mode, lines and allow list, and the counts it
-- judges by. Each send the guard judged counts once in each of its scopes (country, block of
-- numbers, client IP), in five-minute buckets for the last hour and in days for the last 14; the
-- verification keeps its scopes so that its verify counts where its send did. Refused and
-- flagged sends are counted apart (reports, the dashboard's fraud page).
ALTER TABLE otp.apps ADD COLUMN fraud_guard jsonb NOT NULL DEFAULT '{}';
ALTER TABLE otp.verifications ADD COLUMN fraud_scopes text[];

-- A busy scope (a country, a carrier's NAT address) is counted on 8 rows per bucket, one chosen per
-- batch (`shard`), so that concurrent batches do not queue on one row lock; reads add them up.
CREATE TABLE otp.fraud_recent (
    app_id text NOT NULL,
    scope text NOT NULL,
    bucket timestamptz NOT NULL,
    shard smallint NOT NULL DEFAULT 0,
    sent integer NOT NULL DEFAULT 0,
    verified integer NOT NULL DEFAULT 0,
    flagged integer NOT NULL DEFAULT 0,
    blocked integer NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, scope, bucket, shard)
);

CREATE TABLE otp.fraud_daily (
    app_id text NOT NULL,
    scope text NOT NULL,
    day date NOT NULL,
    shard smallint NOT NULL DEFAULT 0,
    sent integer NOT NULL DEFAULT 0,
    verified integer NOT NULL DEFAULT 0,
    flagged integer NOT NULL DEFAULT 0,
    blocked integer NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, scope, day, shard)
);

-- Reports count the sends the guard refused or flagged, per app, day, channel and country.
ALTER TABLE otp.daily_reports ADD COLUMN fraud_blocked integer NOT NULL DEFAULT 0,
    ADD COLUMN fraud_flagged integer NOT NULL DEFAULT 0;

-- What each message cost (the provider's price, or the operator's rate card), reports' cost, and
-- an app's cap on its estimated spend per UTC day: the estimates its sends charged, per day.
ALTER TABLE otp.delivery_attempts ADD COLUMN price numeric, ADD COLUMN price_currency text;
ALTER TABLE otp.daily_reports ADD COLUMN cost numeric NOT NULL DEFAULT 0;
ALTER TABLE otp.apps ADD COLUMN spend_limit_1d numeric CHECK (spend_limit_1d > 0);
CREATE TABLE otp.spend_daily (
    app_id text NOT NULL,
    day date NOT NULL,
    spent numeric NOT NULL,
    PRIMARY KEY (app_id, day)
);
-- Where an attempt's price came from: the provider (at send, or fetched later by `otp prices`) or
-- the operator's rate card (an estimate, replaced once the provider tells).
ALTER TABLE otp.delivery_attempts ADD COLUMN price_source text CHECK (price_source IN ('provider', 'rate_card'));
