-- The status a reader sees: a pending verification past its expiry is expired even before
-- `otp expire` has marked it. One definition for every query that filters or counts by status;
-- the Swift core's `VerificationSnapshot.effectiveStatus` is the same rule where Swift decides.
-- A one-expression SQL function: the planner inlines it, so filters keep their plans.
CREATE OR REPLACE FUNCTION otp.effective_status(status text, expires_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END;
