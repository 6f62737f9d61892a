-- A completed login asks whether the account was signed in to before from
-- the same client kind and address group (a new one is mailed to the
-- owner): one index lookup on the login path, however long the history.
CREATE INDEX login_events_user_client_group_idx ON login_events (user_id, client, ip_group);

-- When and why an endpoint was turned off: `admin` (PATCH) or `failing`
-- (every delivery failed for AUTHGATE_WEBHOOK_DISABLE_AFTER_DAYS). Turning
-- it off by hand cleared the failure clock, so an endpoint that is off with
-- the clock still running was turned off for failing.
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;
UPDATE webhook_endpoints
   SET disabled_at = updated_at,
       disabled_reason = CASE WHEN failing_since IS NULL THEN 'admin' ELSE 'failing' END
 WHERE NOT enabled;
