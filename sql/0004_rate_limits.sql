-- Each counter remembers the limit it was charged against, so a charge can be refused in the same
-- statement that makes it (ON CONFLICT ... WHERE count < EXCLUDED.max_count).
ALTER TABLE otp.rate_limit_counters ADD COLUMN max_count integer NOT NULL DEFAULT 0;

-- Per app: overrides of the default limits ({"recipient_10m": 3, ...}; 0 turns a rule off), country
-- rules per channel ({"sms": {"allow": ["BR"]}, "whatsapp": {"deny": ["RU"]}}) and line types each
-- channel refuses ({"sms": ["fixed_line", "voip"]}).
ALTER TABLE otp.apps ADD COLUMN rate_limits jsonb NOT NULL DEFAULT '{}';
ALTER TABLE otp.apps ADD COLUMN countries jsonb NOT NULL DEFAULT '{}';
ALTER TABLE otp.apps ADD COLUMN refused_line_types jsonb NOT NULL DEFAULT '{}';

-- Aborts the statement that calls it: a send over one of its limits leaves no trace but this error.
CREATE FUNCTION otp.refuse_over_limit(rule text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'OT429', MESSAGE = 'rate limited', DETAIL = rule;
END;
$$;
