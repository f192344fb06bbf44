-- Drops, per history table, the oldest weekly partition wholly past the retention (the trail's
-- retention for otp.events, `days` for the attempt tables), keeping the chain links of dropped
-- events that kept ones follow (otp.event_links_pruned); returns what it dropped. Runs as the owner.
CREATE OR REPLACE FUNCTION otp.drop_history_partition(days integer)
RETURNS TABLE (history_table text, history_partition text, removed bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    keep_from timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(7630307563);
    FOREACH history_table IN ARRAY otp.history_tables() LOOP
        keep_from := now() - make_interval(days => CASE history_table
            WHEN 'events' THEN (SELECT retention_days FROM otp.audit_policy) ELSE greatest(days, 1) END);
        SELECT c.relname INTO history_partition
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = format('otp.%I', history_table)::regclass
            AND c.relname ~ ('^' || history_table || '_\d{4}w\d{2}$')
            AND to_date(right(c.relname, 7), 'IYYY"w"IW') + 7 <= keep_from
        ORDER BY c.relname LIMIT 1;
        IF history_partition IS NOT NULL THEN
            -- Counted before the lock: nothing writes to a week past its retention.
            EXECUTE format('SELECT count(*) FROM otp_history.%I', history_partition) INTO removed;
            SET LOCAL lock_timeout = '200ms';
            BEGIN
                EXECUTE format('LOCK TABLE otp.%I IN ACCESS EXCLUSIVE MODE', history_table);
            EXCEPTION WHEN lock_not_available THEN
                CONTINUE;
            END;
            IF history_table = 'events' THEN
                EXECUTE format('INSERT INTO otp.event_links_pruned (id, chain_prev, chain_hash) '
                    'SELECT d.id, d.chain_prev, d.chain_hash FROM otp_history.%I d '
                    'WHERE d.chain_hash IS NOT NULL AND d.id > (SELECT min(e.id) FROM otp.events e '
                    'WHERE e.tableoid <> %L::regclass) ON CONFLICT (id) DO NOTHING',
                    history_partition, format('otp_history.%I', history_partition));
            END IF;
            EXECUTE format('DROP TABLE otp_history.%I', history_partition);
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END;
$$;
