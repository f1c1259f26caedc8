-- Failed logins, counted per key ("email:<lower email>" or "ip:<address>") in fixed windows.
-- Kept in PostgreSQL so that several Plenary instances share one limit.
CREATE TABLE login_failures (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL CHECK (failures >= 0)
);

-- Idempotency-Key of POST requests, scoped to the organiser, kept 24 hours.
CREATE TABLE idempotency_keys (
    organiser_id    uuid NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    text NOT NULL,
    -- NULL while the first request is still running.
    response_status integer,
    response_headers jsonb,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organiser_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Every write by an organiser, recorded in the same transaction as the write.
CREATE TABLE audit_log (
    id            uuid PRIMARY KEY,
    conference_id uuid,
    organiser_id  uuid,
    action        text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    resource_type text NOT NULL,
    resource_id   uuid NOT NULL,
    changes       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_conference_idx ON audit_log (conference_id, id DESC);
