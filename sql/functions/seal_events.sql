-- Seals, in id order, up to `batch` events older than 30 seconds (so the transactions that wrote
-- the rows before them have committed), continuing the chain from the last sealed row. One sealer
-- at a time (an advisory lock); returns how many were sealed.
CREATE OR REPLACE FUNCTION otp.seal_events(batch integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp, pg_temp AS $$
DECLARE
    previous bytea;
    sealed integer := 0;
    e otp.events;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7630307562) THEN
        RETURN 0;
    END IF;
    SELECT chain_hash INTO previous FROM otp.events WHERE chain_hash IS NOT NULL ORDER BY id DESC LIMIT 1;
    FOR e IN
        SELECT * FROM otp.events
        WHERE chain_hash IS NULL AND at < now() - interval '30 seconds'
            AND id > coalesce((SELECT max(id) FROM otp.events WHERE chain_hash IS NOT NULL), 0)
        ORDER BY id LIMIT greatest(batch, 1)
    LOOP
        UPDATE otp.events SET chain_prev = previous,
            chain_hash = sha256(coalesce(previous, ''::bytea) || otp.event_text(e))
        WHERE id = e.id;
        previous := sha256(coalesce(previous, ''::bytea) || otp.event_text(e));
        sealed := sealed + 1;
    END LOOP;
    RETURN sealed;
END;
$$;
