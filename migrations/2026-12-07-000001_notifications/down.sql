ALTER TABLE organisers DROP COLUMN email_verified;
ALTER TABLE organisers DROP COLUMN tokens_valid_after;
DROP TABLE password_resets;
DROP TABLE outbox;
DROP TABLE webhooks;
DROP FUNCTION plenary_uuid_v7();
