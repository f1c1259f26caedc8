DROP TABLE credential_documents;
DROP TABLE delegation_credentials;
ALTER TABLE delegations DROP COLUMN credentials;
