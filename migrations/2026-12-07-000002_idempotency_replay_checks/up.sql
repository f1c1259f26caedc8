-- The access checks a keyed request passed before its response was stored: a replay passes
-- them again, so a caller who lost the right gets the refusal, not the stored response.
ALTER TABLE idempotency_keys ADD COLUMN replay_checks jsonb;
