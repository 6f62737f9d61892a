-- One budget again: it keeps a lock either budget had.
UPDATE users SET otp_locked_at = (
    SELECT o.locked_at FROM otp_owner_budgets o WHERE o.user_id = users.id
)
WHERE otp_locked_at IS NULL;
DROP TABLE otp_owner_budgets;
