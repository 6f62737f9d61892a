-- Partner API keys: stored as a SHA-256 hash only (the key has 256 random
-- bits), with the scopes they grant, space-separated.
CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    key_hash         TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    created_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    last_used_at     BIGINT,
    expires_at       BIGINT,
    revoked_at       BIGINT
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
CREATE INDEX api_keys_organization_idx ON api_keys (organization_id);

-- The refresh grace: a session's latest rotation, with the successor token
-- sealed (XChaCha20-Poly1305, the session id as associated data) so that
-- presenting the predecessor again within the grace returns the same
-- successor. Never a plaintext token at rest; one row per session.
CREATE TABLE refresh_grace (
    session_id        TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    predecessor_hash  TEXT NOT NULL,
    successor_sealed  BYTEA NOT NULL,
    rotated_at        BIGINT NOT NULL
);
