ALTER TABLE audit_log DROP COLUMN actor_kind;
