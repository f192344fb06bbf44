-- The trail's rule, with one more way past it: rows moved out of the default partition into their
-- week's new partition by otp.make_history_partition, which runs as the owner (the runtime may not
-- delete from the trail at all, so setting otp.moving_history gives it nothing).
CREATE OR REPLACE FUNCTION otp.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        AND OLD.at < now() - make_interval(days => (SELECT retention_days FROM otp.audit_policy)) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' AND TG_TABLE_SCHEMA = 'otp_history' AND TG_TABLE_NAME = 'events_default'
        AND current_setting('otp.moving_history', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.chain_hash IS NULL AND OLD.chain_prev IS NULL AND NEW.chain_hash IS NOT NULL
        AND (NEW.id, NEW.at, NEW.event, NEW.app_id, NEW.verification_id, NEW.actor, NEW.ip, NEW.details)
            IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.event, OLD.app_id, OLD.verification_id, OLD.actor, OLD.ip,
                OLD.details) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'otp.events is append-only (% refused)', TG_OP;
END;
$$;
