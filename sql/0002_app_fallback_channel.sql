-- Per app: the channel to try when a message failed for good on its own channel
-- (typically WhatsApp failed, then SMS).
ALTER TABLE otp.apps ADD COLUMN fallback_channel text CHECK (fallback_channel IN ('sms', 'whatsapp'));
