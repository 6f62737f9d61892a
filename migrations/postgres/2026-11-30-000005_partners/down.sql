DROP TABLE refresh_grace;
DROP TABLE api_keys;
