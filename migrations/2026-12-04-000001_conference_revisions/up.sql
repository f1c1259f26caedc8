-- Per-conference revisions for the cache of public reads and the read replica
-- (src/store/revisions.rs, src/freshness.rs). Every audited write bumps the revision of each
-- conference it touches, under this row's lock and in the write's own transaction, so a
-- conference's revisions increase in commit order; `xid` is the writing transaction's id.
-- Each instance polls the rows whose `xid` is at least the `xmin` of its previous poll's
-- snapshot: every transaction that committed since then has such an id, so no committed bump
-- is missed, whatever the order of commits. (No NOTIFY: a notifying transaction holds a
-- database-wide lock through its commit, which halved write throughput.)
-- The row outlives its conference (a deleted conference's reads must be invalidated too).
CREATE SEQUENCE conference_revision_seq;

CREATE TABLE conference_revisions (
    conference_id UUID PRIMARY KEY,
    revision BIGINT NOT NULL,
    xid XID8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE INDEX conference_revisions_xid ON conference_revisions (xid);

INSERT INTO conference_revisions (conference_id, revision)
SELECT id, nextval('conference_revision_seq') FROM conferences;
