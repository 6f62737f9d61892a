-- PostgreSQL twin of migrations/sqlite: same tables, columns, constraints
-- and version names. Instants are BIGINT Unix milliseconds (UTC).

CREATE TABLE organizations (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    two_factor_policy   TEXT NOT NULL DEFAULT 'optional'
        CHECK (two_factor_policy IN ('optional', 'required_for_admins', 'required_for_all')),
    grace_period_hours  INTEGER NOT NULL DEFAULT 0 CHECK (grace_period_hours BETWEEN 0 AND 720),
    policy_since        BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY NOT NULL,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    email                TEXT NOT NULL CHECK (email = lower(email)),
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    password_hash        TEXT NOT NULL,
    two_factor_required  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organization_idx ON users (organization_id, created_at);

CREATE TABLE totp_factors (
    user_id            TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'enabled')),
    secret_ciphertext  BYTEA NOT NULL,
    algorithm          TEXT NOT NULL,
    started_at         BIGINT NOT NULL,
    enabled_at         BIGINT,
    last_used_step     BIGINT,
    source             TEXT
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY NOT NULL,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash  TEXT NOT NULL,
    client              TEXT NOT NULL,
    amr                 TEXT NOT NULL,
    ip                  TEXT,
    user_agent          TEXT,
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    revoked_at          BIGINT
);
CREATE UNIQUE INDEX sessions_refresh_token_hash_key ON sessions (refresh_token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE login_challenges (
    id               TEXT PRIMARY KEY NOT NULL,
    token_hash       TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('otp', 'enrollment')),
    client           TEXT NOT NULL,
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    consumed_at      BIGINT
);
CREATE UNIQUE INDEX login_challenges_token_hash_key ON login_challenges (token_hash);
CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);

CREATE TABLE login_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    organization_id  TEXT,
    outcome          TEXT NOT NULL,
    client           TEXT,
    ip               TEXT,
    user_agent       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX login_events_user_idx ON login_events (user_id, id);

CREATE TABLE audit_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  TEXT,
    actor_type       TEXT NOT NULL CHECK (actor_type IN ('user', 'support', 'system')),
    actor_id         TEXT,
    target_user_id   TEXT,
    action           TEXT NOT NULL,
    ip               TEXT,
    details          TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, id);
CREATE INDEX audit_events_target_idx ON audit_events (target_user_id, id);
