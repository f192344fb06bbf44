-- An audit event the app's webhook hears queues it, in the transaction of the change it reports.
CREATE OR REPLACE TRIGGER events_queue_app_webhook AFTER INSERT ON otp.events
    FOR EACH ROW
    WHEN (NEW.event IN ('delivery_sent', 'delivery_delivered', 'delivery_failed', 'verify_succeeded', 'locked',
        'expired') AND NEW.verification_id IS NOT NULL)
    EXECUTE FUNCTION otp.queue_app_webhook();
