-- The voice channel (a call that reads the code out), and fallback chains: an app's fallback is an
-- ordered list of channels (`whatsapp,sms,voice`) instead of one channel.
ALTER TABLE otp.apps DROP CONSTRAINT apps_channels_check,
    ADD CONSTRAINT apps_channels_check CHECK (channels <@ '{sms,whatsapp,voice}' AND cardinality(channels) > 0),
    DROP CONSTRAINT apps_default_channel_check,
    ADD CONSTRAINT apps_default_channel_check CHECK (default_channel IN ('sms', 'whatsapp', 'voice'));
ALTER TABLE otp.verifications DROP CONSTRAINT verifications_channel_check,
    ADD CONSTRAINT verifications_channel_check CHECK (channel IN ('sms', 'whatsapp', 'voice'));
ALTER TABLE otp.deliveries DROP CONSTRAINT deliveries_channel_check,
    ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('sms', 'whatsapp', 'voice'));

ALTER TABLE otp.apps ADD COLUMN fallback_channels text[] NOT NULL DEFAULT '{}'
    CHECK (fallback_channels <@ '{sms,whatsapp,voice}');
UPDATE otp.apps SET fallback_channels = ARRAY[fallback_channel] WHERE fallback_channel IS NOT NULL;
ALTER TABLE otp.apps DROP COLUMN fallback_channel;
