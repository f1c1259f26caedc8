CREATE INDEX delegations_country_idx ON delegations (country) WHERE country IS NOT NULL;
CREATE INDEX delegations_organisation_idx ON delegations (organisation_id) WHERE organisation_id IS NOT NULL;
DROP INDEX delegations_organisation_history_idx;
DROP INDEX delegations_country_history_idx;
DROP TRIGGER conferences_start_date_to_delegations ON conferences;
DROP FUNCTION conferences_copy_start_date();
DROP TRIGGER delegations_conference_start_date ON delegations;
DROP FUNCTION delegations_copy_conference_start_date();
ALTER TABLE delegations DROP COLUMN conference_start_date;
