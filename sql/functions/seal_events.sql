-- Seals, in id order, up to `batch` events with ids up to `through`, continuing the chain from the
-- last sealed row; returns how many were sealed. The caller (`otp audit seal`, AuditTrail.seal)
-- passes a bound below which every transaction that drew an id has ended, so no event can commit
-- below the chain's end afterwards. One sealer at a time (an advisory lock).
DROP FUNCTION IF EXISTS otp.seal_events(integer);
CREATE OR REPLACE FUNCTION otp.seal_events(batch integer, through bigint) RETURNS integer
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
        WHERE chain_hash IS NULL AND id <= through
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
