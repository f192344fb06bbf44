-- The tables whose rows go by the week (partitioned by `at`).
CREATE OR REPLACE FUNCTION otp.history_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['events', 'delivery_attempts', 'verify_attempts', 'webhook_attempts']
$$;
