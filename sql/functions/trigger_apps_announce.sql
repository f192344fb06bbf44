-- A change to apps empties every `otp serve`'s cache of them (otp.announce_directory_change).
CREATE OR REPLACE TRIGGER apps_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON otp.apps
    FOR EACH STATEMENT EXECUTE FUNCTION otp.announce_directory_change();
