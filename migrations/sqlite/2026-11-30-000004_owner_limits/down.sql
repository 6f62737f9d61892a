ALTER TABLE sessions DROP COLUMN step_up_failures;
DROP INDEX login_events_ip_group_time_idx;
ALTER TABLE login_events DROP COLUMN ip_group;
