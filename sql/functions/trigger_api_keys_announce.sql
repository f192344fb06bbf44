-- A change to API keys empties every `otp serve`'s cache of them (otp.announce_directory_change).
CREATE OR REPLACE TRIGGER api_keys_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON otp.api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION otp.announce_directory_change();
