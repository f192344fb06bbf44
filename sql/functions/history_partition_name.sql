-- A partition's name: the table's, then the ISO year and week its rows belong to (events_2026w49).
CREATE OR REPLACE FUNCTION otp.history_partition_name(history_table text, week_start timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT history_table || '_' || to_char(week_start AT TIME ZONE 'UTC', 'IYYY"w"IW')
$$;
