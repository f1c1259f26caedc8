DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE login_failures;
