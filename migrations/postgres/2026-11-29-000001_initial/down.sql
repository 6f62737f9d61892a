DROP TABLE audit_events;
DROP TABLE login_events;
DROP TABLE login_challenges;
DROP TABLE sessions;
DROP TABLE totp_factors;
DROP TABLE users;
DROP TABLE organizations;
