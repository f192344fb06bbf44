-- History by the week: otp.events and the three attempt tables become tables partitioned by `at`
-- (native range partitioning), one partition per ISO week (Monday 00:00 UTC to the next), so that
-- retention drops a whole week's partition instead of deleting its rows one by one.
--
-- The partitions live in the schema otp_history, where the runtime role has no rights at all: it
-- reads and writes through the parent tables only, whose privileges (and, for the trail, whose
-- triggers) apply to every partition. A default partition of each table catches a row whose week
-- has no partition yet (the scheduled `otp partitions` makes them weeks ahead), so a missed run
-- delays nothing and loses nothing.
--
-- Partitioned tables cannot have identity columns in PostgreSQL 15 and their primary key must hold
-- the partition key: ids come from a sequence each, and the key is (id, at). Nothing references
-- these rows by id. The attempt tables no longer point at their delivery or webhook event with a
-- foreign key: attempts are history that goes by its week, and a cascading delete into them would
-- delete row by row what retention drops by the partition.
--
-- Existing rows are copied over with their ids (and the trail's chain hashes) unchanged, in this
-- migration's transaction: the tables are locked for as long as the copy takes.
CREATE SCHEMA otp_history;
REVOKE ALL ON SCHEMA otp_history FROM PUBLIC;

CREATE FUNCTION otp.history_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['events', 'delivery_attempts', 'verify_attempts', 'webhook_attempts']
$$;

-- A partition's name: the table's, then the ISO year and week its rows belong to (events_2026w49).
CREATE FUNCTION otp.history_partition_name(history_table text, week_start timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT history_table || '_' || to_char(week_start AT TIME ZONE 'UTC', 'IYYY"w"IW')
$$;

-- Makes the weekly partition holding `at` for one history table, if it is not there yet; returns
-- whether it made one. Rows of that week already in the default partition move into it.
CREATE FUNCTION otp.make_history_partition(history_table text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp SET TimeZone = 'UTC' AS $$
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

-- Makes every history table's partitions from the week holding `since` through `weeks_ahead` weeks
-- after this one; returns how many it made. Idempotent, and two hosts at once take turns.
CREATE FUNCTION otp.make_history_partitions(weeks_ahead integer, since timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp SET TimeZone = 'UTC' AS $$
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

-- Drops one partition of the history tables whose whole week is past its retention: the trail's
-- (otp.audit_policy, set by its owner) for otp.events, `days` for the attempt tables. A row is so
-- kept at least as long as its retention and at most a week longer. Returns the table, the
-- partition and the rows it held, or nothing when no partition is due. One partition per call, so
-- that the exclusive lock a drop takes on its parent is held for that drop alone; it waits at most
-- 200 ms for that lock (sends queue behind a waiting drop), and a partition it could not lock is
-- left for the next run.
-- The trail's links that a dropped week took with it while rows of the next week still follow
-- them in id order. An event's time is its transaction's start, its id is drawn at its insert, so a
-- transaction that began in the last moments of a week can write its event after one begun in the
-- next: dropping the first week would then leave the next week's chain with a hole that `otp audit
-- verify` could not tell from a deleted row. Kept here, the links let it walk across; the contents
-- of those rows are gone, their place in the chain is not.
CREATE TABLE otp.event_links_pruned (
    id         bigint PRIMARY KEY,
    chain_prev bytea,
    chain_hash bytea NOT NULL
);

CREATE FUNCTION otp.drop_history_partition(days integer)
RETURNS TABLE (history_table text, history_partition text, removed bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp SET TimeZone = 'UTC' AS $$
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

-- Deletes a batch of rows past their retention from the default partitions (rows whose week had no
-- partition when they were written); returns how many, per table.
CREATE FUNCTION otp.prune_history_defaults(days integer, batch integer)
RETURNS TABLE (history_table text, removed bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, otp AS $$
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

-- Moves one table over: the old one renamed, the new one partitioned like it, partitions for every
-- week its rows span and the weeks ahead, the rows copied with their ids, the old one dropped, then
-- the key, the indexes (as they were) and the id sequence.
CREATE FUNCTION pg_temp.partition_history_table(history_table text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    old_table text := history_table || '_unpartitioned';
    first_at timestamptz;
    index_definitions text[];
    definition text;
    last_id bigint;
BEGIN
    SELECT array_agg(indexdef) INTO index_definitions FROM pg_indexes
    WHERE schemaname = 'otp' AND tablename = history_table AND indexname <> history_table || '_pkey';
    EXECUTE format('ALTER TABLE otp.%I RENAME TO %I', history_table, old_table);
    EXECUTE format('CREATE TABLE otp.%I (LIKE otp.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
        'PARTITION BY RANGE (at)', history_table, old_table);
    EXECUTE format('CREATE TABLE otp_history.%I PARTITION OF otp.%I DEFAULT', history_table || '_default',
        history_table);
    EXECUTE format('SELECT min(at) FROM otp.%I', old_table) INTO first_at;
    -- One step a week lands in each week from the first row's through the eighth ahead.
    PERFORM otp.make_history_partition(history_table, week)
    FROM generate_series(coalesce(first_at, now()), now() + interval '8 weeks', interval '1 week') AS week;
    EXECUTE format('INSERT INTO otp.%I SELECT * FROM otp.%I', history_table, old_table);
    EXECUTE format('DROP TABLE otp.%I CASCADE', old_table);
    EXECUTE format('ALTER TABLE otp.%I ADD PRIMARY KEY (id, at)', history_table);
    FOREACH definition IN ARRAY coalesce(index_definitions, '{}') LOOP
        EXECUTE definition;
    END LOOP;
    EXECUTE format('CREATE SEQUENCE otp.%I OWNED BY otp.%I.id', history_table || '_id_seq', history_table);
    EXECUTE format('SELECT max(id) FROM otp.%I', history_table) INTO last_id;
    IF last_id IS NOT NULL THEN
        PERFORM setval(format('otp.%I', history_table || '_id_seq'), last_id);
    END IF;
    EXECUTE format('ALTER TABLE otp.%I ALTER COLUMN id SET DEFAULT nextval(%L)', history_table,
        format('otp.%I', history_table || '_id_seq'));
END;
$$;

SELECT pg_temp.partition_history_table(t) FROM unnest(otp.history_tables()) AS t;

ALTER TABLE otp.verify_attempts ADD FOREIGN KEY (verification_id) REFERENCES otp.verifications (id);

-- The trail's triggers and its canonical text, dropped with the old table (they named its row type).
CREATE FUNCTION otp.event_text(e otp.events) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(concat_ws(chr(31), e.id::text, (extract(epoch FROM e.at) * 1000000)::bigint::text, e.event,
        coalesce(e.app_id, ''), coalesce(e.verification_id, ''), coalesce(e.actor, ''), coalesce(e.ip, ''),
        e.details::text), 'UTF8')
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON otp.events
    FOR EACH ROW EXECUTE FUNCTION otp.refuse_event_change();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON otp.events
    FOR EACH STATEMENT EXECUTE FUNCTION otp.refuse_event_change();

CREATE TRIGGER events_queue_app_webhook AFTER INSERT ON otp.events
    FOR EACH ROW
    WHEN (NEW.event IN ('delivery_sent', 'delivery_delivered', 'delivery_failed', 'verify_succeeded', 'locked',
        'expired') AND NEW.verification_id IS NOT NULL)
    EXECUTE FUNCTION otp.queue_app_webhook();

-- Row-by-row pruning of the trail is gone: its weeks are dropped by otp.drop_history_partition.
DROP FUNCTION otp.prune_events(integer);

-- The partition functions are the owner's: the runtime may make and drop partitions only through
-- them (otp partitions, otp prune), never in otp_history itself.
CREATE OR REPLACE FUNCTION otp.grant_runtime_role() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA otp TO otp_runtime;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA otp TO otp_runtime;
    REVOKE UPDATE, DELETE, TRUNCATE ON otp.events FROM otp_runtime;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.schema_migrations, otp.audit_policy, otp.event_links_pruned
        FROM otp_runtime;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA otp TO otp_runtime;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA otp TO otp_runtime;
    REVOKE EXECUTE ON FUNCTION otp.grant_runtime_role() FROM otp_runtime, PUBLIC;
    REVOKE EXECUTE ON FUNCTION otp.request_verification(text, text, text, text, text, jsonb) FROM otp_runtime;
END;
$$;
