-- Accreditation (API.md "Accreditation"): accounts hold grants, focal points nominate their
-- delegations, the secretariat accepts within quotas and before a deadline.

-- An account may create conferences and organisations only with the organiser grant
-- (`plenary organiser add`); accounts made by accepting an invitation have none.
ALTER TABLE organisers ADD COLUMN is_organiser boolean NOT NULL DEFAULT true;

-- Focal points: one row per invitation. Its status is derived: revoked (revoked_at),
-- active (accepted_at), expired (expires_at past), else invited. The code itself is never
-- stored: code_hash is the hex SHA-256 of it (the code carries 256 random bits, so a fast
-- hash suffices, as for API tokens).
CREATE TABLE focal_points (
    id            uuid PRIMARY KEY,
    conference_id uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    delegation_id uuid NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    code_hash     text NOT NULL UNIQUE,
    expires_at    timestamptz NOT NULL,
    organiser_id  uuid REFERENCES organisers (id) ON DELETE CASCADE,
    accepted_at   timestamptz,
    revoked_at    timestamptz,
    created_by    uuid REFERENCES organisers (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((accepted_at IS NULL) = (organiser_id IS NULL))
);
CREATE INDEX focal_points_delegation_idx ON focal_points (delegation_id, id);
-- Who is the focal point of what: read on every request of a focal point.
CREATE INDEX focal_points_account_idx ON focal_points (organiser_id, conference_id)
    INCLUDE (delegation_id) WHERE revoked_at IS NULL AND organiser_id IS NOT NULL;

-- Nominations: the new member fields.
ALTER TABLE delegation_members
    ADD COLUMN family_name text CHECK (length(family_name) <= 200),
    ADD COLUMN native_name text CHECK (length(native_name) <= 200),
    ADD COLUMN honorific text CHECK (length(honorific) <= 40),
    ADD COLUMN category text NOT NULL DEFAULT 'representative' CHECK (category IN
        ('representative', 'alternate', 'adviser', 'expert', 'observer', 'support')),
    ADD COLUMN gender text CHECK (gender IN ('female', 'male', 'other')),
    ADD COLUMN nomination_status text NOT NULL DEFAULT 'accepted'
        CHECK (nomination_status IN ('nominated', 'accepted', 'rejected')),
    ADD COLUMN nomination_note text CHECK (length(nomination_note) <= 2000);

-- Deadline, quotas and the host's place in protocol order.
ALTER TABLE conferences
    ADD COLUMN protocol_host text NOT NULL DEFAULT 'first' CHECK (protocol_host IN ('first', 'last')),
    ADD COLUMN nominations_close_at timestamptz,
    ADD COLUMN quotas jsonb CHECK (quotas IS NULL OR jsonb_typeof(quotas) = 'object');
