-- Plenary core schema. Invariants live here as well as in the code.

CREATE TABLE organisers (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of letter case.
CREATE UNIQUE INDEX organisers_email_key ON organisers (lower(email));

-- ISO 3166-1 countries; rows are synchronised from the keshvar crate by `plenary migrate`.
CREATE TABLE countries (
    code          text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}$'),
    alpha3        text NOT NULL UNIQUE CHECK (alpha3 ~ '^[A-Z]{3}$'),
    numeric       text NOT NULL UNIQUE CHECK (numeric ~ '^[0-9]{3}$'),
    name          text NOT NULL,
    official_name text NOT NULL,
    region        text,
    subregion     text
);

-- Names under which a country may be given as input (normalised: lower case, single spaces).
CREATE TABLE country_aliases (
    alias   text PRIMARY KEY,
    code    text NOT NULL REFERENCES countries (code) ON DELETE CASCADE
);
CREATE INDEX country_aliases_code_idx ON country_aliases (code);

CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    acronym     text CHECK (length(acronym) BETWEEN 1 AND 50),
    kind        text NOT NULL CHECK (kind IN ('intergovernmental', 'government_agency', 'non_governmental', 'other')),
    country     text REFERENCES countries (code),
    website     text CHECK (length(website) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Organisation names are unique regardless of letter case.
CREATE UNIQUE INDEX organisations_name_key ON organisations (lower(name));

CREATE TABLE conferences (
    id                   uuid PRIMARY KEY,
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    theme                text CHECK (length(theme) <= 2000),
    status               text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    start_date           date NOT NULL,
    end_date             date NOT NULL,
    time_zone            text NOT NULL,
    venue_name           text,
    venue_city           text NOT NULL,
    venue_region         text,
    venue_country        text NOT NULL REFERENCES countries (code),
    host_country         text REFERENCES countries (code),
    host_organisation_id uuid REFERENCES organisations (id),
    source_url           text CHECK (length(source_url) <= 2000),
    participants_public  boolean NOT NULL DEFAULT false,
    created_by           uuid REFERENCES organisers (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conferences_dates_check CHECK (end_date >= start_date)
);
CREATE INDEX conferences_start_date_idx ON conferences (start_date DESC, id DESC);
CREATE INDEX conferences_venue_country_idx ON conferences (venue_country, start_date DESC);
CREATE INDEX conferences_host_organisation_idx ON conferences (host_organisation_id);

CREATE TABLE conference_organisers (
    conference_id uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    organiser_id  uuid NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    role          text NOT NULL CHECK (role IN ('owner', 'editor')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conference_id, organiser_id)
);
CREATE INDEX conference_organisers_organiser_idx ON conference_organisers (organiser_id);

CREATE TABLE delegations (
    id              uuid PRIMARY KEY,
    conference_id   uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    country         text REFERENCES countries (code),
    organisation_id uuid REFERENCES organisations (id),
    authority       text CHECK (length(authority) <= 300),
    role            text NOT NULL DEFAULT 'member' CHECK (role IN ('host', 'member', 'observer', 'guest')),
    status          text NOT NULL DEFAULT 'registered'
                    CHECK (status IN ('invited', 'registered', 'confirmed', 'attended', 'declined', 'withdrawn')),
    head_name       text CHECK (length(head_name) BETWEEN 1 AND 300),
    head_title      text CHECK (length(head_title) <= 300),
    size            integer CHECK (size >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Exactly one of country and organisation.
    CONSTRAINT delegations_party_check CHECK (num_nonnulls(country, organisation_id) = 1),
    CONSTRAINT delegations_head_check CHECK (head_title IS NULL OR head_name IS NOT NULL),
    -- One delegation per (conference, country) and per (conference, organisation).
    CONSTRAINT delegations_conference_country_key UNIQUE (conference_id, country),
    CONSTRAINT delegations_conference_organisation_key UNIQUE (conference_id, organisation_id),
    -- Target of the composite foreign key that keeps session links inside one conference.
    CONSTRAINT delegations_id_conference_key UNIQUE (id, conference_id)
);
CREATE INDEX delegations_country_idx ON delegations (country) WHERE country IS NOT NULL;
CREATE INDEX delegations_organisation_idx ON delegations (organisation_id) WHERE organisation_id IS NOT NULL;

CREATE TABLE delegation_members (
    id            uuid PRIMARY KEY,
    delegation_id uuid NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 300),
    title         text CHECK (length(title) <= 300),
    position      text CHECK (length(position) <= 300),
    is_head       boolean NOT NULL DEFAULT false,
    email         text CHECK (length(email) <= 320),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delegation_members_delegation_idx ON delegation_members (delegation_id, id);
-- At most one head per delegation.
CREATE UNIQUE INDEX delegation_members_one_head ON delegation_members (delegation_id) WHERE is_head;

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    conference_id uuid NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    kind          text NOT NULL DEFAULT 'plenary'
                  CHECK (kind IN ('opening', 'plenary', 'panel', 'bilateral', 'closing', 'side_event', 'other')),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    room          text CHECK (length(room) <= 300),
    chair         text CHECK (length(chair) <= 300),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sessions_times_check CHECK (ends_at > starts_at),
    CONSTRAINT sessions_id_conference_key UNIQUE (id, conference_id)
);
CREATE INDEX sessions_conference_idx ON sessions (conference_id, starts_at, id);

-- Delegations taking part in a session; both must belong to the same conference.
CREATE TABLE session_delegations (
    session_id    uuid NOT NULL,
    delegation_id uuid NOT NULL,
    conference_id uuid NOT NULL,
    PRIMARY KEY (session_id, delegation_id),
    FOREIGN KEY (session_id, conference_id) REFERENCES sessions (id, conference_id) ON DELETE CASCADE,
    FOREIGN KEY (delegation_id, conference_id) REFERENCES delegations (id, conference_id) ON DELETE CASCADE
);
CREATE INDEX session_delegations_delegation_idx ON session_delegations (delegation_id);

-- Conference documents loaded by `plenary import`: the digest makes re-imports no-ops.
CREATE TABLE conference_imports (
    conference_id uuid PRIMARY KEY REFERENCES conferences (id) ON DELETE CASCADE,
    digest        text NOT NULL,
    source        text NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);
