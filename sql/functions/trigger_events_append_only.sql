-- The trail refuses every update and delete but the ones otp.refuse_event_change lets through.
CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON otp.events
    FOR EACH ROW EXECUTE FUNCTION otp.refuse_event_change();
