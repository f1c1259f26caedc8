-- The focal points' portal (API.md "Accreditation": pages under /portal/): one row per signed-in
-- browser. The cookie carries a random 256-bit session code; only its SHA-256 is stored, so
-- the table cannot be replayed from a backup. `csrf` is the session's form token (sent back
-- in every form it renders). A session ends at `expires_at`, at sign-out (row deleted), when
-- the account is deleted, and when the account's tokens end (`organisers.tokens_valid_after`
-- after `created_at`: a password reset or change ends its sessions like its tokens).
CREATE TABLE portal_sessions (
    id UUID PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    organiser_id UUID NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX portal_sessions_organiser ON portal_sessions (organiser_id);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);
