ALTER TABLE login_events DROP COLUMN authenticator_name;
ALTER TABLE login_events DROP COLUMN authenticator_id;
ALTER TABLE authenticators DROP COLUMN drift_sixteenths;
DROP INDEX authenticators_user_idx;
-- One authenticator per user again: keep the oldest confirmed one (or,
-- without one, the pending one).
DELETE FROM authenticators
WHERE EXISTS (
    SELECT 1 FROM authenticators o
    WHERE o.user_id = authenticators.user_id
      AND o.id <> authenticators.id
      AND ((o.state = 'enabled' AND authenticators.state = 'pending')
           OR (o.state = authenticators.state
               AND (o.created_at < authenticators.created_at
                    OR (o.created_at = authenticators.created_at AND o.id < authenticators.id))))
);
CREATE UNIQUE INDEX authenticators_user_key ON authenticators (user_id);
