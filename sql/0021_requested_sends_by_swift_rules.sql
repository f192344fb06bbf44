-- otp.request_verification no longer charges limits in SQL: the worker charges every send limit
-- with the API's own rules (OTPCore's RateLimits) when it prepares the send. The copy of the
-- rules' defaults that the SQL limiter read is gone with it.
DROP TABLE IF EXISTS otp.send_limit_defaults;
