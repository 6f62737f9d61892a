DROP TABLE password_reset_requests;
DROP TABLE password_tokens;
ALTER TABLE users DROP COLUMN deleted_at;
