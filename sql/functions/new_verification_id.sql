-- A verification id of the form OTPCore's `Identifiers.verificationID` makes: "otp_" and 26
-- characters of [0-9a-z]. Each character comes from one random byte below 252 (7 × 36), so all 36
-- are equally likely; bytes 6 and 8 of a UUID carry its version and variant and are skipped.
CREATE OR REPLACE FUNCTION otp.new_verification_id() RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    alphabet constant text := '0123456789abcdefghijklmnopqrstuvwxyz';
    id text := 'otp_';
    random_bytes bytea;
    b integer;
BEGIN
    WHILE length(id) < 30 LOOP
        random_bytes := uuid_send(gen_random_uuid());
        FOR i IN 0..15 LOOP
            CONTINUE WHEN i IN (6, 8);
            b := get_byte(random_bytes, i);
            CONTINUE WHEN b >= 252;
            id := id || substr(alphabet, b % 36 + 1, 1);
            EXIT WHEN length(id) = 30;
        END LOOP;
    END LOOP;
    RETURN id;
END;
$$;
