-- Credentials (API.md "Accreditation"): each delegation's letter of credentials, a PDF, and
-- the secretariat's review of it. The status is mirrored on the delegation (`credentials`),
-- so lists of delegations read it without touching this table; the document itself lives in
-- a table of its own, read only by the download.
ALTER TABLE delegations ADD COLUMN credentials text NOT NULL DEFAULT 'none'
    CHECK (credentials IN ('none', 'submitted', 'provisional', 'verified', 'rejected'));

CREATE TABLE delegation_credentials (
    delegation_id uuid PRIMARY KEY REFERENCES delegations (id) ON DELETE CASCADE,
    conference_id uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    status        text NOT NULL CHECK (status IN ('submitted', 'provisional', 'verified', 'rejected')),
    sha256        text NOT NULL CHECK (length(sha256) = 64),
    bytes         integer NOT NULL CHECK (bytes > 0),
    submitted_at  timestamptz NOT NULL,
    submitted_by  uuid REFERENCES organisers (id) ON DELETE SET NULL,
    reviewed_at   timestamptz,
    reviewed_by   uuid REFERENCES organisers (id) ON DELETE SET NULL,
    note          text CHECK (length(note) <= 2000)
);

CREATE TABLE credential_documents (
    delegation_id uuid PRIMARY KEY REFERENCES delegation_credentials (delegation_id) ON DELETE CASCADE,
    document      bytea NOT NULL
);
