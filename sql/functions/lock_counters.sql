-- Locks the counters named (made at 0 when missing), sorted bytewise by rule, key and window: the
-- one order in which every batch, of sends or of verifies, takes its counters before it charges
-- any (a single send charges its counters in rule order, one key per rule, so it keeps this order
-- too), so batches and single calls cannot deadlock one another. Returns how many it locked.
-- PL/pgSQL, not SQL: a SQL function that cannot be inlined is planned again on every call (half a
-- millisecond for this upsert, per batch); PL/pgSQL keeps the plan for the session.
CREATE OR REPLACE FUNCTION otp.lock_counters(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    locked integer;
BEGIN
    IF coalesce(cardinality(rules), 0) = 0 THEN
        RETURN 0;
    END IF;
    WITH wanted AS (
        SELECT x.rule, x.scope_key, x.max_count, x.win,
            to_timestamp((floor(extract(epoch FROM now()) / x.win) * x.win)::float8) AS window_start
        FROM unnest(rules, scope_keys, max_counts, windows) AS x (rule, scope_key, max_count, win)
    ), taken AS (
        INSERT INTO otp.rate_limit_counters AS c (rule, scope_key, window_start, count, expires_at, max_count)
        SELECT DISTINCT ON (w.rule COLLATE "C", w.scope_key COLLATE "C", w.window_start)
            w.rule, w.scope_key, w.window_start, 0, w.window_start + make_interval(secs => w.win), w.max_count
        FROM wanted w
        ORDER BY w.rule COLLATE "C", w.scope_key COLLATE "C", w.window_start
        ON CONFLICT (rule, scope_key, window_start) DO UPDATE SET count = c.count
        RETURNING 1
    )
    SELECT count(*)::integer INTO locked FROM taken;
    RETURN locked;
END;
$$;
