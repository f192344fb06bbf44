-- The runtime role's rights, granted again by every `otp migrate` (tables added later included).
-- On the trail it may insert an event's own columns only; the producers' grants and the schema's
-- own bookkeeping are the owner's.
CREATE OR REPLACE FUNCTION otp.grant_runtime_role() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA otp TO otp_runtime;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA otp TO otp_runtime;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.events FROM otp_runtime;
    GRANT INSERT (event, app_id, verification_id, actor, ip, details) ON otp.events TO otp_runtime;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.schema_migrations, otp.audit_policy, otp.event_links_pruned,
        otp.producer_grants FROM otp_runtime;
    IF to_regclass('otp.schema_functions') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON otp.schema_functions FROM otp_runtime;
    END IF;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA otp TO otp_runtime;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA otp TO otp_runtime;
    REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA otp FROM PUBLIC;
    REVOKE EXECUTE ON FUNCTION otp.grant_runtime_role() FROM otp_runtime;
    REVOKE EXECUTE ON FUNCTION otp.request_verification(text, text, text, text, text, jsonb) FROM otp_runtime;
END;
$$;
REVOKE EXECUTE ON FUNCTION otp.grant_runtime_role() FROM PUBLIC;
