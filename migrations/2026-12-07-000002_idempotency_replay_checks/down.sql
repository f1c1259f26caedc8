ALTER TABLE idempotency_keys DROP COLUMN replay_checks;
