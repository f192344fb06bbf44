-- The limiter that raises: the API's charges and otp.request_verification charge the same
-- counters through otp.charge_counters_or_refuse; a refusal raises OT429 (DETAIL: the rule and
-- the seconds until its window ends), rolling the caller's transaction back with every charge.
CREATE OR REPLACE FUNCTION otp.charge_counters(rules text[], scope_keys text[], max_counts bigint[], windows bigint[])
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    refused text := otp.charge_counters_or_refuse(rules, scope_keys, max_counts, windows);
BEGIN
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'OT429', MESSAGE = 'rate limited', DETAIL = refused;
    END IF;
    RETURN true;
END;
$$;
