-- Makes every history table's partitions from the week holding `since` through `weeks_ahead` weeks
-- after this one; returns how many it made. Idempotent, and two hosts at once take turns.
CREATE OR REPLACE FUNCTION otp.make_history_partitions(weeks_ahead integer, since timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    history_table text;
    week timestamptz;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(7630307563);
    FOREACH history_table IN ARRAY otp.history_tables() LOOP
        week := date_trunc('week', least(since, now()));
        WHILE week <= date_trunc('week', now()) + make_interval(weeks => greatest(weeks_ahead, 0)) LOOP
            IF otp.make_history_partition(history_table, week) THEN
                made := made + 1;
            END IF;
            week := week + interval '1 week';
        END LOOP;
    END LOOP;
    RETURN made;
END;
$$;
