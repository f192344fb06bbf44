-- Test numbers: per app, numbers whose code is fixed and whose messages go to no provider. The codes
-- are kept sealed (AES-GCM under the server's key ring), never in plaintext:
-- {"+15555550100": "<base64 of the sealed code>"}.
ALTER TABLE otp.apps ADD COLUMN test_numbers jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(test_numbers) = 'object');
-- A verification of a test number: its deliveries are marked sent by provider `test`, and reports
-- leave it out.
ALTER TABLE otp.verifications ADD COLUMN test boolean NOT NULL DEFAULT false;
