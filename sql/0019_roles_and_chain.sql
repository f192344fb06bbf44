-- Isolation between the roles that touch the schema:
--   * nothing in schema otp is executable by PUBLIC (PostgreSQL's default for a new function), so
--     a producer or any other role runs only what it was granted;
--   * a producer acts only for the accounts it was granted (otp.producer_grants, kept by
--     `otp producers`), checked by otp.request_verification against the login role;
--   * the runtime may insert an audit event's own columns only: the database sets id, at and the
--     chain columns (a caller that names them is refused; otp.grant_runtime_role);
--   * every SECURITY DEFINER function ends its search_path with pg_temp, so no temporary object a
--     caller makes can stand in for one the function names (sql/functions/);
--   * Idempotency-Key is scoped to the app of the request, not the account.
-- The functions themselves (otp.request_verification's grant check, otp.grant_runtime_role) are
-- in sql/functions/, applied after the numbered migrations.

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA otp FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA otp REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Which login roles (or the roles they belong to) may request verifications for which account.
CREATE TABLE otp.producer_grants (
    role_name  text NOT NULL,
    account_id bigint NOT NULL REFERENCES otp.accounts (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role_name, account_id)
);

-- Idempotency keys stored before this release were the account's; a stored answer names its
-- verification and so its app, under which the key is kept from now on (`APPID|KEY`). A key
-- whose answer was never stored (its send failed) is dropped: it held nothing to replay.
UPDATE otp.idempotency_keys k SET key = v.app_id || '|' || k.key
FROM otp.verifications v
WHERE k.response_body IS NOT NULL AND v.id = (k.response_body::jsonb ->> 'verification_id') AND k.key NOT LIKE '%|%';
DELETE FROM otp.idempotency_keys WHERE key NOT LIKE '%|%';
