-- The recipient's country (ISO 3166 region, 'ZZ' when unknown), for reports and geo rules.
ALTER TABLE otp.verifications ADD COLUMN country text NOT NULL DEFAULT 'ZZ';

-- Listing by status or channel walks the per-app time index; these serve the reports and the
-- verification-scoped attempt lists.
CREATE INDEX deliveries_app_created_idx ON otp.deliveries (app_id, created_at);
CREATE INDEX events_app_event_idx ON otp.events (app_id, event, id DESC);
CREATE INDEX events_at_idx ON otp.events (at);
CREATE INDEX delivery_attempts_at_idx ON otp.delivery_attempts (at);
CREATE INDEX verify_attempts_at_idx ON otp.verify_attempts (at);
CREATE INDEX verifications_created_idx ON otp.verifications (created_at);
