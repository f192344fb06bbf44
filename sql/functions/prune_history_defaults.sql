-- Deletes a batch of rows past their retention from the default partitions (rows whose week had no
-- partition when they were written); returns how many, per table.
CREATE OR REPLACE FUNCTION otp.prune_history_defaults(days integer, batch integer)
RETURNS TABLE (history_table text, removed bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp AS $$
DECLARE
    keep_from timestamptz;
BEGIN
    FOREACH history_table IN ARRAY otp.history_tables() LOOP
        keep_from := now() - make_interval(days => CASE history_table
            WHEN 'events' THEN (SELECT retention_days FROM otp.audit_policy) ELSE greatest(days, 1) END);
        EXECUTE format('WITH gone AS (DELETE FROM otp_history.%1$I WHERE ctid IN ('
            'SELECT ctid FROM otp_history.%1$I WHERE at < %2$L LIMIT %3$s FOR UPDATE SKIP LOCKED) RETURNING 1) '
            'SELECT count(*) FROM gone', history_table || '_default', keep_from, greatest(batch, 1))
            INTO removed;
        RETURN NEXT;
    END LOOP;
END;
$$;
