-- GET /organisations/{id}/log: one resource's entries, newest first, without reading the
-- whole log (organisation entries have no conference_id, so audit_log_conference_idx misses).
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, id DESC);
