-- Reports by provider (`/otp/reports?group_by=provider`): per app, UTC day, channel, country and
-- provider, the messages each provider carried and how many of their verifications were verified.
-- `otp rollup` writes past days here as it writes `daily_reports`; today is computed live.
CREATE TABLE otp.daily_provider_reports (
    app_id                   text NOT NULL REFERENCES otp.apps (id),
    day                      date NOT NULL,
    channel                  text NOT NULL,
    country                  text NOT NULL,
    provider                 text NOT NULL,
    verifications            integer NOT NULL DEFAULT 0,
    sent                     integer NOT NULL DEFAULT 0,
    delivered                integer NOT NULL DEFAULT 0,
    failed                   integer NOT NULL DEFAULT 0,
    verified                 integer NOT NULL DEFAULT 0,
    delivery_latency_ms_p50  integer,
    delivery_latency_ms_p95  integer,
    cost                     numeric NOT NULL DEFAULT 0,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, day, channel, country, provider)
);
