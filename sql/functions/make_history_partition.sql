-- Makes the weekly partition holding `at` for one history table, if it is not there yet; returns
-- whether it made one. Rows of that week already in the default partition move into it.
CREATE OR REPLACE FUNCTION otp.make_history_partition(history_table text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    week_start timestamptz := date_trunc('week', at);
    week_end timestamptz := date_trunc('week', at) + interval '1 week';
    name text := otp.history_partition_name(history_table, date_trunc('week', at));
BEGIN
    IF NOT history_table = ANY (otp.history_tables()) THEN
        RAISE EXCEPTION 'not a history table: %', history_table;
    END IF;
    IF to_regclass(format('otp_history.%I', name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Made apart and attached: attaching locks the parent only against other schema changes, not
    -- against the inserts of sends and verifies.
    EXECUTE format('CREATE TABLE otp_history.%I (LIKE otp.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
        name, history_table);
    PERFORM set_config('otp.moving_history', 'on', true);
    EXECUTE format('WITH moved AS (DELETE FROM otp_history.%I WHERE at >= %L AND at < %L RETURNING *) '
        'INSERT INTO otp_history.%I SELECT * FROM moved', history_table || '_default', week_start, week_end, name);
    PERFORM set_config('otp.moving_history', 'off', true);
    EXECUTE format('ALTER TABLE otp.%I ATTACH PARTITION otp_history.%I FOR VALUES FROM (%L) TO (%L)',
        history_table, name, week_start, week_end);
    RETURN true;
END;
$$;
