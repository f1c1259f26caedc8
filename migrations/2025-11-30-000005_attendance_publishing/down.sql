DROP INDEX conferences_search_idx;
ALTER TABLE conferences DROP COLUMN search;
DROP TABLE session_presence;
DROP TABLE delegation_protocol_ranks;
