-- Badges, check-in and presence (API.md, "Badges, check-in and presence"): each conference's
-- Ed25519 signing key, the badges of accepted members, the scans recorded at the doors, and
-- the `check_in` organiser role.

ALTER TABLE conference_organisers DROP CONSTRAINT conference_organisers_role_check;
ALTER TABLE conference_organisers ADD CONSTRAINT conference_organisers_role_check
    CHECK (role IN ('owner', 'editor', 'check_in'));

-- The conference's badge key, made the first time a badge or the key is asked for. `secret`
-- is the 32-byte Ed25519 seed (RFC 8032), `public_key` its 32-byte public key, `kid` the
-- JWK thumbprint of the public key (RFC 7638).
CREATE TABLE badge_keys (
    conference_id UUID PRIMARY KEY REFERENCES conferences (id) ON DELETE CASCADE,
    kid TEXT NOT NULL UNIQUE,
    secret BYTEA NOT NULL CHECK (length(secret) = 32),
    public_key BYTEA NOT NULL CHECK (length(public_key) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One badge per member, issued the first time it is asked for. No foreign key to the
-- member or its delegation: a deleted member's badge stays, revoked, so that scanners learn
-- of it (`GET .../badges/revoked`). Every version below `version` is revoked (reissued), and
-- `version` too when `status` is `revoked`.
CREATE TABLE badges (
    member_id UUID PRIMARY KEY,
    conference_id UUID NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    delegation_id UUID NOT NULL,
    -- Set by an organiser; null follows the delegation's section.
    category TEXT CHECK (category IN ('party', 'observer', 'organisation', 'vip', 'media',
                                      'secretariat', 'security')),
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'collected', 'revoked')),
    issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    collected_at TIMESTAMPTZ
);

CREATE INDEX badges_conference ON badges (conference_id, member_id);
CREATE INDEX badges_delegation ON badges (delegation_id);

-- A member no longer accepted (rejected, back to nominated, deleted) or whose delegation
-- stops counting (or is deleted) has a revoked badge: these triggers revoke it in the
-- transaction of the write, whichever path made it (API, importer, command line).
CREATE FUNCTION plenary_revoke_member_badge() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.nomination_status <> 'accepted' THEN
        UPDATE badges SET status = 'revoked' WHERE member_id = OLD.id AND status <> 'revoked';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER delegation_members_revoke_badge
    AFTER UPDATE OF nomination_status OR DELETE ON delegation_members
    FOR EACH ROW EXECUTE FUNCTION plenary_revoke_member_badge();

CREATE FUNCTION plenary_revoke_delegation_badges() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.status NOT IN ('registered', 'confirmed', 'attended') THEN
        UPDATE badges SET status = 'revoked' WHERE delegation_id = OLD.id AND status <> 'revoked';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER delegations_revoke_badges
    AFTER UPDATE OF status OR DELETE ON delegations
    FOR EACH ROW EXECUTE FUNCTION plenary_revoke_delegation_badges();

-- Accepted scans. `nonce` is the scanner's, unique per conference: an upload sent twice (or
-- by two scanners at once) records each scan once (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE check_ins (
    id UUID PRIMARY KEY,
    conference_id UUID NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL CHECK (length(nonce) BETWEEN 1 AND 64),
    member_id UUID NOT NULL,
    delegation_id UUID NOT NULL,
    -- Null: the venue's door.
    session_id UUID,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    version INTEGER NOT NULL,
    scanned_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    recorded_by UUID REFERENCES organisers (id) ON DELETE SET NULL,
    CONSTRAINT check_ins_nonce_key UNIQUE (conference_id, nonce),
    FOREIGN KEY (session_id, conference_id) REFERENCES sessions (id, conference_id) ON DELETE CASCADE
);

CREATE INDEX check_ins_session ON check_ins (conference_id, session_id, delegation_id)
    WHERE direction = 'in';
CREATE INDEX check_ins_member ON check_ins (member_id);
