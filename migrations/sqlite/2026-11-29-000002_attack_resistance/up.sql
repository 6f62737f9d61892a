-- Second-factor throttle state, recovery codes, refresh-token reuse
-- detection, and indexes for the password-stage limits.

ALTER TABLE users ADD COLUMN otp_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN otp_last_failure_at BIGINT;
ALTER TABLE users ADD COLUMN otp_budget_tat BIGINT;
ALTER TABLE users ADD COLUMN otp_locked_at BIGINT;

CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE UNIQUE INDEX recovery_codes_user_hash_key ON recovery_codes (user_id, code_hash);

-- Refresh tokens a session has rotated away from: presenting one again
-- means it leaked, and the whole session is revoked.
CREATE TABLE rotated_refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rotated_at  BIGINT NOT NULL
);
CREATE INDEX rotated_refresh_tokens_session_idx ON rotated_refresh_tokens (session_id);

-- Lead with the outcome so the limits count only the rows they need.
CREATE INDEX login_events_user_time_idx ON login_events (user_id, outcome, created_at);
CREATE INDEX login_events_ip_time_idx ON login_events (ip, outcome, created_at);
