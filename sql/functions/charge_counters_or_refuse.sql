-- Charges one use to each counter, in the order given, each only while below its limit; a refusal
-- does not raise: the counters this call did charge are given back, and the refused rule and the
-- seconds until its window ends are returned ('rule seconds'); NULL when every counter took it.
CREATE OR REPLACE FUNCTION otp.charge_counters_or_refuse(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    charged_rules text[];
    charged_keys text[];
    charged_windows timestamptz[];
    refused text;
BEGIN
    WITH charges AS (
        SELECT rule, scope_key, max_count, win,
            to_timestamp((floor(extract(epoch FROM now()) / win) * win)::float8) AS window_start
        FROM unnest(rules, scope_keys, max_counts, windows) AS x (rule, scope_key, max_count, win)
    ), done AS (
        INSERT INTO otp.rate_limit_counters AS c (rule, scope_key, window_start, count, expires_at, max_count)
        SELECT rule, scope_key, window_start, 1, window_start + make_interval(secs => win), max_count
        FROM charges
        ON CONFLICT (rule, scope_key, window_start) DO UPDATE
            SET count = c.count + 1, max_count = EXCLUDED.max_count
            WHERE c.count < EXCLUDED.max_count
        RETURNING c.rule, c.scope_key, c.window_start
    )
    SELECT (SELECT count(*) FROM charges),
        (SELECT array_agg(rule) FROM done), (SELECT array_agg(scope_key) FROM done),
        (SELECT array_agg(window_start) FROM done),
        (SELECT rule || ' ' || ceil(extract(epoch FROM window_start + make_interval(secs => win) - now()))
         FROM charges WHERE rule NOT IN (SELECT rule FROM done) ORDER BY rule LIMIT 1)
    INTO wanted, charged_rules, charged_keys, charged_windows, refused;
    IF coalesce(cardinality(charged_rules), 0) < wanted THEN
        UPDATE otp.rate_limit_counters c SET count = c.count - 1
        FROM unnest(charged_rules, charged_keys, charged_windows) AS x (rule, scope_key, window_start)
        WHERE (c.rule, c.scope_key, c.window_start) = (x.rule, x.scope_key, x.window_start);
        RETURN refused;
    END IF;
    RETURN NULL;
END;
$$;
