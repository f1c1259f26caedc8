-- Per-conference revisions for the cache of public reads and the read replica (src/revisions.rs).
-- Every audited write bumps the revision of each conference it touches, under this row's lock
-- and in the write's own transaction, so a conference's revisions increase in commit order;
-- the new value is sent with pg_notify('plenary_revisions', '<conference id>:<revision>'),
-- which PostgreSQL delivers to the listening instances when (and only if) the write commits.
-- The row outlives its conference (a deleted conference's reads must be invalidated too).
CREATE SEQUENCE conference_revision_seq;

CREATE TABLE conference_revisions (
    conference_id UUID PRIMARY KEY,
    revision BIGINT NOT NULL
);

INSERT INTO conference_revisions (conference_id, revision)
SELECT id, nextval('conference_revision_seq') FROM conferences;
