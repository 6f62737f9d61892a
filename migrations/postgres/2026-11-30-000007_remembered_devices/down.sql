DROP TABLE remembered_devices;
ALTER TABLE organizations DROP COLUMN remember_device_days;
