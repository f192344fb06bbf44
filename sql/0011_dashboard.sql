-- The dashboard's people and their sessions. Passwords are kept only as bcrypt hashes; a session
-- only as the SHA-256 digest of its cookie value, so a copy of this table signs nobody in.
CREATE TABLE otp.users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES otp.accounts (id),
    -- Stored normalised (trimmed, lower case): one user per address.
    email         text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL CHECK (password_hash LIKE '$2%'),
    role          text NOT NULL CHECK (role IN ('owner', 'viewer')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE otp.dashboard_sessions (
    token_digest  bytea PRIMARY KEY CHECK (length(token_digest) = 32),
    user_id       bigint NOT NULL REFERENCES otp.users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now()
);
-- For `otp prune`, which removes sessions past the idle timeout.
CREATE INDEX dashboard_sessions_last_used_idx ON otp.dashboard_sessions (last_used_at);
CREATE INDEX dashboard_sessions_user_idx ON otp.dashboard_sessions (user_id);
