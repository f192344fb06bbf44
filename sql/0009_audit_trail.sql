-- Two roles. The owner (whoever runs `otp migrate`) owns the schema; `otp serve` and `otp work` run
-- as a login role that is a member of otp_runtime, which may read and write the working tables but
-- may only add to the audit trail: no UPDATE, DELETE or TRUNCATE on otp.events, and, owning
-- nothing, no way to alter or disable its triggers. Pruning goes through otp.prune_events, which
-- runs as the owner and deletes only rows past the retention the owner set.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otp_runtime') THEN
        CREATE ROLE otp_runtime NOLOGIN;
    END IF;
END;
$$;

-- What the trail keeps, set by `otp migrate` from OTP_RETENTION_DAYS; the runtime may only read it.
CREATE TABLE otp.audit_policy (
    only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days >= 1)
);
INSERT INTO otp.audit_policy DEFAULT VALUES;

-- The hash chain: each sealed row keeps the hash of the row sealed before it and its own,
-- sha256(chain_prev || the row's canonical text). Rows are sealed in batches by otp.seal_events
-- (a scheduled job), so an insert takes no lock on the chain's end.
ALTER TABLE otp.events ADD COLUMN chain_prev bytea;
ALTER TABLE otp.events ADD COLUMN chain_hash bytea;
CREATE INDEX events_unsealed_idx ON otp.events (id) WHERE chain_hash IS NULL;

-- The canonical text of an event: fixed order, a separator no field can hold unescaped, the time
-- in microseconds since the epoch (independent of the session's time zone).
CREATE FUNCTION otp.event_text(e otp.events) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(concat_ws(chr(31), e.id::text, (extract(epoch FROM e.at) * 1000000)::bigint::text, e.event,
        coalesce(e.app_id, ''), coalesce(e.verification_id, ''), coalesce(e.actor, ''), coalesce(e.ip, ''),
        e.details::text), 'UTF8')
$$;

-- The trail refuses every change but two: deleting a row past the retention, and sealing a row
-- once (setting its chain hashes and nothing else). The owner alone can get past it.
CREATE OR REPLACE FUNCTION otp.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        AND OLD.at < now() - make_interval(days => (SELECT retention_days FROM otp.audit_policy)) THEN
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

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON otp.events
    FOR EACH STATEMENT EXECUTE FUNCTION otp.refuse_event_change();

-- Deletes a batch of events past the retention; returns how many.
CREATE FUNCTION otp.prune_events(batch integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, otp AS $$
    WITH gone AS (
        DELETE FROM otp.events WHERE id IN (
            SELECT id FROM otp.events
            WHERE at < now() - make_interval(days => (SELECT retention_days FROM otp.audit_policy))
            ORDER BY id LIMIT greatest(batch, 1) FOR UPDATE SKIP LOCKED)
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

-- Seals, in id order, up to `batch` events older than 30 seconds (so the transactions that wrote
-- the rows before them have committed), continuing the chain from the last sealed row. One sealer
-- at a time (an advisory lock); returns how many were sealed.
CREATE FUNCTION otp.seal_events(batch integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp AS $$
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

-- The runtime role's rights, granted again by every `otp migrate` (tables added later included).
CREATE FUNCTION otp.grant_runtime_role() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA otp TO otp_runtime;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA otp TO otp_runtime;
    REVOKE UPDATE, DELETE, TRUNCATE ON otp.events FROM otp_runtime;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.schema_migrations, otp.audit_policy FROM otp_runtime;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA otp TO otp_runtime;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA otp TO otp_runtime;
    REVOKE EXECUTE ON FUNCTION otp.grant_runtime_role() FROM otp_runtime, PUBLIC;
END;
$$;
