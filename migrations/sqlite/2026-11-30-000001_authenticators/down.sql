CREATE TABLE totp_factors (
    user_id            TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'enabled')),
    secret_ciphertext  BLOB NOT NULL,
    algorithm          TEXT NOT NULL,
    started_at         BIGINT NOT NULL,
    enabled_at         BIGINT,
    last_used_step     BIGINT,
    source             TEXT
);
INSERT INTO totp_factors (user_id, state, secret_ciphertext, algorithm, started_at, enabled_at, last_used_step, source)
SELECT user_id, state, secret_ciphertext, algorithm, created_at, enabled_at, last_used_step, source
FROM authenticators;
DROP TABLE authenticators;
