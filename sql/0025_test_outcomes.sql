-- Test numbers with scripted outcomes (OTPCore's TestOutcome): {"+15555550100": "undelivered"}.
-- A number missing here is plainly `sent`, as before.
ALTER TABLE otp.apps ADD COLUMN test_outcomes jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(test_outcomes) = 'object');
-- The sandbox's receipts pass (`otp work`, every second) reads messages to test numbers that are
-- sent and wait for their receipt: few rows, found without reading the sent ones of real numbers.
CREATE INDEX deliveries_test_sent ON otp.deliveries (sent_at) WHERE provider = 'test' AND state = 'sent';
