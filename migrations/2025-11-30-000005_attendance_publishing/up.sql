-- Issue 5: attendance that organisers can publish.

-- An explicit protocol order of a conference's delegations (e.g. drawn by lot). Ranked
-- delegations come first, in rank order; the others follow in the computed protocol order.
-- The composite foreign key keeps each rank inside the delegation's own conference.
CREATE TABLE delegation_protocol_ranks (
    delegation_id uuid NOT NULL PRIMARY KEY,
    conference_id uuid NOT NULL,
    rank          integer NOT NULL CHECK (rank >= 1),
    CONSTRAINT delegation_protocol_ranks_conference_rank_key UNIQUE (conference_id, rank),
    FOREIGN KEY (delegation_id, conference_id)
        REFERENCES delegations (id, conference_id) ON DELETE CASCADE
);

-- Delegations present at a session (recorded after the fact by an organiser), as opposed to
-- session_delegations (the delegations expected to take part). Session and delegation must
-- belong to the same conference.
CREATE TABLE session_presence (
    session_id    uuid NOT NULL,
    delegation_id uuid NOT NULL,
    conference_id uuid NOT NULL,
    recorded_by   uuid REFERENCES organisers (id) ON DELETE SET NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, delegation_id),
    FOREIGN KEY (session_id, conference_id) REFERENCES sessions (id, conference_id) ON DELETE CASCADE,
    FOREIGN KEY (delegation_id, conference_id) REFERENCES delegations (id, conference_id) ON DELETE CASCADE
);
CREATE INDEX session_presence_conference_idx ON session_presence (conference_id);
CREATE INDEX session_presence_delegation_idx ON session_presence (delegation_id);

-- Full-text search of conferences (English configuration): title weighs most, then the
-- theme, then the venue. `?q=` matches `search @@ websearch_to_tsquery('english', q)`.
ALTER TABLE conferences ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(theme, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig,
        coalesce(venue_name, '') || ' ' || coalesce(venue_city, '') || ' ' || coalesce(venue_region, '')), 'C')
) STORED;
CREATE INDEX conferences_search_idx ON conferences USING gin (search);
