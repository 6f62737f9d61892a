-- Several named authenticators per user. The one-per-user unique index
-- goes (the application caps confirmed ones at five and keeps at most one
-- pending); each authenticator learns how far its clock is off, in
-- sixteenths of a 30-second step (see auth_core::drift).
DROP INDEX authenticators_user_key;
CREATE INDEX authenticators_user_idx ON authenticators (user_id, created_at);
ALTER TABLE authenticators ADD COLUMN drift_sixteenths INTEGER NOT NULL DEFAULT 0;

-- The login history names the authenticator whose code was used (its name
-- as it was then, so renaming or removing it later keeps the record true).
ALTER TABLE login_events ADD COLUMN authenticator_id TEXT;
ALTER TABLE login_events ADD COLUMN authenticator_name TEXT;
