-- Attendance histories (`/countries/{code}/attendance`, `/organisations/{id}/attendance`) and
-- `GET /conferences?participant=` list a party's conferences newest start_date first. Keep the
-- conference's start_date on each delegation, so that one index returns a party's
-- delegations already in that order: a page reads its ~50 rows instead of walking
-- conferences by date and probing each for the party (benches/RESULTS.md, scenarios B, C).

ALTER TABLE delegations ADD COLUMN conference_start_date date;
UPDATE delegations d SET conference_start_date = c.start_date
FROM conferences c WHERE c.id = d.conference_id;
ALTER TABLE delegations ALTER COLUMN conference_start_date SET NOT NULL;

-- A delegation takes the date of its conference on insert and when it moves to another one.
CREATE FUNCTION delegations_copy_conference_start_date() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT start_date INTO NEW.conference_start_date FROM conferences WHERE id = NEW.conference_id;
    IF NOT FOUND THEN
        -- The same error the foreign key would raise (it runs only after NOT NULL checks).
        RAISE EXCEPTION 'insert or update on table "delegations" violates foreign key constraint "delegations_conference_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'delegations',
                  CONSTRAINT = 'delegations_conference_id_fkey';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER delegations_conference_start_date
    BEFORE INSERT OR UPDATE OF conference_id, conference_start_date ON delegations
    FOR EACH ROW EXECUTE FUNCTION delegations_copy_conference_start_date();

-- A conference whose start_date changes passes it on to its delegations.
CREATE FUNCTION conferences_copy_start_date() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE delegations SET conference_start_date = NEW.start_date WHERE conference_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER conferences_start_date_to_delegations
    AFTER UPDATE OF start_date ON conferences
    FOR EACH ROW WHEN (OLD.start_date IS DISTINCT FROM NEW.start_date)
    EXECUTE FUNCTION conferences_copy_start_date();

-- These replace the single-column indexes (same leading column, same predicate).
CREATE INDEX delegations_country_history_idx
    ON delegations (country, conference_start_date DESC, conference_id DESC)
    WHERE country IS NOT NULL;
CREATE INDEX delegations_organisation_history_idx
    ON delegations (organisation_id, conference_start_date DESC, conference_id DESC)
    WHERE organisation_id IS NOT NULL;
DROP INDEX delegations_country_idx;
DROP INDEX delegations_organisation_idx;
