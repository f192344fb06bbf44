-- The trail is never truncated, by the owner either.
CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON otp.events
    FOR EACH STATEMENT EXECUTE FUNCTION otp.refuse_event_change();
