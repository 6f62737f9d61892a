-- Limits count a client by its address group (an IPv4 address, or the /64
-- of an IPv6 address), so a fresh IPv6 address per request gets no fresh
-- allowance. Earlier rows hold an IPv4 address or nothing: their group is
-- the address itself.
ALTER TABLE login_events ADD COLUMN ip_group TEXT;
UPDATE login_events SET ip_group = ip;
CREATE INDEX login_events_ip_group_time_idx ON login_events (ip_group, outcome, created_at);

-- Failed re-authentications (step-up) a session made: after a few, the
-- session ends (a stolen access token cannot keep guessing).
ALTER TABLE sessions ADD COLUMN step_up_failures INTEGER NOT NULL DEFAULT 0;
