-- From here on the schema's functions and triggers live one file each in sql/functions/ (applied
-- by `otp migrate` after the numbered migrations, whenever a file changed); numbered migrations
-- keep tables, indexes and moves of data. The limiter of 0004 has had no caller since 0015.
DROP FUNCTION IF EXISTS otp.refuse_over_limit(text);
