-- Transaction confirmation (PSD2 dynamic linking): the payment a code confirms, as the service
-- checked it ({"amount": "149.90", "currency": "EUR", "payees": ["ACME Travel"]}). The code's keyed
-- digest covers it, so a row changed here no longer verifies. otp.lock_verify_batch now returns it
-- (sql/functions/ recreates the function with its new columns).
ALTER TABLE otp.verifications ADD COLUMN transaction jsonb;
DROP FUNCTION IF EXISTS otp.lock_verify_batch(jsonb);
