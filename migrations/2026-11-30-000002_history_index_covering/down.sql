DROP INDEX delegations_country_history_idx;
DROP INDEX delegations_organisation_history_idx;
CREATE INDEX delegations_country_history_idx
    ON delegations (country, conference_start_date DESC, conference_id DESC)
    WHERE country IS NOT NULL;
CREATE INDEX delegations_organisation_history_idx
    ON delegations (organisation_id, conference_start_date DESC, conference_id DESC)
    WHERE organisation_id IS NOT NULL;
