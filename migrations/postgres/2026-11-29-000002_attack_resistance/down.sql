DROP INDEX login_events_ip_time_idx;
DROP INDEX login_events_user_time_idx;
DROP TABLE rotated_refresh_tokens;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN otp_locked_at;
ALTER TABLE users DROP COLUMN otp_budget_tat;
ALTER TABLE users DROP COLUMN otp_last_failure_at;
ALTER TABLE users DROP COLUMN otp_failures;
