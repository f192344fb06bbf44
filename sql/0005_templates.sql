-- Custom message templates per app, versioned: an edit makes a new version and keeps the old one,
-- and each delivery records the version it used.
CREATE TABLE otp.templates (
    id          text PRIMARY KEY,
    app_id      text NOT NULL REFERENCES otp.apps (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    locale      text NOT NULL,
    body        text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX templates_app_idx ON otp.templates (app_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE otp.template_versions (
    template_id text NOT NULL REFERENCES otp.templates (id),
    version     integer NOT NULL,
    body        text NOT NULL,
    locale      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template_id, version)
);

-- The app's message options: {"do_not_share": true, "web_otp_domain": "example.com",
-- "sms_retriever_hash": "FA+9qCX9VSu"}, and its approved WhatsApp templates per locale:
-- {"pt-BR": {"name": "otp_code", "language": "pt_BR"}}.
ALTER TABLE otp.apps ADD COLUMN message_options jsonb NOT NULL DEFAULT '{}';
ALTER TABLE otp.apps ADD COLUMN whatsapp_templates jsonb NOT NULL DEFAULT '{}';

-- What a queued delivery will say, fixed when it was queued: the Mustache text (no code in it), the
-- template and version it came from (NULL for the predefined ones), its locale, and for WhatsApp the
-- approved template to use.
ALTER TABLE otp.deliveries ADD COLUMN message_template text;
ALTER TABLE otp.deliveries ADD COLUMN template_id text;
ALTER TABLE otp.deliveries ADD COLUMN template_version integer;
ALTER TABLE otp.deliveries ADD COLUMN locale text;
ALTER TABLE otp.deliveries ADD COLUMN whatsapp_template text;
ALTER TABLE otp.deliveries ADD COLUMN whatsapp_language text;
