-- API key secrets are random per key: the digest checks Basic and header credentials, and the
-- secret sealed under the server's key ring (AES-GCM) checks HS256 JWTs. NULL for keys made before,
-- whose secret was derived from the key id; `otp keys reseal` seals those too.
ALTER TABLE otp.api_keys ADD COLUMN sealed_secret bytea;
