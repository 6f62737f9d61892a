-- A removed user keeps their row (ids in the login history and audit log
-- still resolve) but loses email, name and credentials.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- Single-use password tokens: forgotten-password resets and invitations.
-- Only a hash of the token is stored.
CREATE TABLE password_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('reset', 'invitation')),
    token_hash   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    -- Ended: used, superseded by a newer token, or revoked.
    consumed_at  BIGINT,
    -- Set only when the token set the password.
    redeemed_at  BIGINT
);
CREATE UNIQUE INDEX password_tokens_token_hash_key ON password_tokens (token_hash);
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id, created_at);

-- Every forgotten-password request, known email or not, so that requests
-- can be limited per account and per address.
CREATE TABLE password_reset_requests (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    ip          TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX password_reset_requests_user_idx ON password_reset_requests (user_id, created_at);
CREATE INDEX password_reset_requests_ip_idx ON password_reset_requests (ip, created_at);
