DROP INDEX IF EXISTS audit_log_resource_idx;
