-- One row per authenticator, keyed by its own id, instead of one factor
-- row keyed by the user. The product still allows exactly one per user
-- (the unique index below); the schema no longer bakes that in.
-- The secret stays sealed with the user's id as associated data, so
-- migrated rows decrypt exactly as before.

CREATE TABLE authenticators (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'enabled')),
    secret_ciphertext  BLOB NOT NULL,
    algorithm          TEXT NOT NULL,
    source             TEXT,
    last_used_step     BIGINT,
    created_at         BIGINT NOT NULL,
    enabled_at         BIGINT,
    last_used_at       BIGINT
);
CREATE UNIQUE INDEX authenticators_user_key ON authenticators (user_id);

INSERT INTO authenticators (id, user_id, name, state, secret_ciphertext, algorithm, source,
                            last_used_step, created_at, enabled_at, last_used_at)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
           substr(lower(hex(randomblob(2))), 2) || '-' ||
           substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' ||
           lower(hex(randomblob(6))),
       user_id, 'Authenticator', state, secret_ciphertext, algorithm, source,
       last_used_step, started_at, enabled_at, NULL
FROM totp_factors;

DROP TABLE totp_factors;
