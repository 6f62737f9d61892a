-- "Remember this device": a device token stands in for the second factor
-- at later logins of the same account (the password is still asked).
-- Only a hash of the token is stored. An organization may shorten the
-- lifetime or turn the feature off (0 days).
ALTER TABLE organizations ADD COLUMN remember_device_days INTEGER NOT NULL DEFAULT 30;

CREATE TABLE remembered_devices (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL,
    client        TEXT NOT NULL,
    ip            TEXT,
    user_agent    TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE UNIQUE INDEX remembered_devices_token_hash_key ON remembered_devices (token_hash);
CREATE INDEX remembered_devices_user_idx ON remembered_devices (user_id, created_at);
