-- The audit events the app's webhook hears queue it, in the transaction of the change they report:
-- once per statement (one call for a batch of outcomes, where a trigger per row called a function
-- per event). Replaces the row trigger of migrations 0014 and 0016 and its function.
DROP TRIGGER IF EXISTS events_queue_app_webhook ON otp.events;
CREATE TRIGGER events_queue_app_webhook AFTER INSERT ON otp.events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION otp.queue_app_webhooks();
DROP FUNCTION IF EXISTS otp.queue_app_webhook();
