-- An attendance history page (`/countries/{code}/attendance`, `/organisations/{id}/attendance`)
-- shows the delegation's role and status next to each conference. With them in the history
-- indexes (INCLUDE: stored in the leaf, not part of the key) the page is an index-only scan of
-- adjacent leaf entries instead of one heap page per delegation, which stops growing with the
-- table (benches/RESULTS.md, scenario C at 100 000 conferences).
CREATE INDEX delegations_country_history_cover_idx
    ON delegations (country, conference_start_date DESC, conference_id DESC)
    INCLUDE (role, status)
    WHERE country IS NOT NULL;
CREATE INDEX delegations_organisation_history_cover_idx
    ON delegations (organisation_id, conference_start_date DESC, conference_id DESC)
    INCLUDE (role, status)
    WHERE organisation_id IS NOT NULL;
DROP INDEX delegations_country_history_idx;
DROP INDEX delegations_organisation_history_idx;
ALTER INDEX delegations_country_history_cover_idx RENAME TO delegations_country_history_idx;
ALTER INDEX delegations_organisation_history_cover_idx RENAME TO delegations_organisation_history_idx;
