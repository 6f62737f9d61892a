-- The second-factor throttle keeps two budgets per account: the users.otp_*
-- columns now count codes from addresses the account does not sign in from
-- (strangers), this table counts codes from the address groups it does (the
-- owner), so strangers' wrong codes never lock the owner out. No row: the
-- owner's budget is untouched.
CREATE TABLE otp_owner_budgets (
    user_id          TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_failure_at  BIGINT,
    budget_tat       BIGINT,
    locked_at        BIGINT
);

-- Nobody gains a guess or loses a lock through the upgrade: the owner's
-- budget starts where the one budget stood (a lock stays until a person
-- lifts it).
INSERT INTO otp_owner_budgets (user_id, failures, last_failure_at, budget_tat, locked_at)
SELECT id, otp_failures, otp_last_failure_at, otp_budget_tat, otp_locked_at
FROM users
WHERE otp_failures <> 0 OR otp_budget_tat IS NOT NULL OR otp_locked_at IS NOT NULL;
