-- A vendor may give two messages the same id (a gateway answering {"id": "queued"} to every
-- request). The id is only for matching delivery receipts, so it must not be unique: a unique
-- index made recording the second outcome fail, and the delivery was sent again after its lease.
DROP INDEX otp.deliveries_provider_message_idx;
CREATE INDEX deliveries_provider_message_idx ON otp.deliveries (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
