-- Every change to API keys and apps is announced on the channel otp_directory (at commit), so that
-- each `otp serve` empties its in-process cache of them at once. One notification per statement:
-- the listeners only need to know that something changed.
CREATE OR REPLACE FUNCTION otp.announce_directory_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('otp_directory', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
