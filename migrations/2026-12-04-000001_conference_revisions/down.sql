DROP TABLE conference_revisions;
DROP SEQUENCE conference_revision_seq;
