-- Password checks in progress: a login reserves one row per counter it is limited by
-- (per email and address, per email, per address) before its password is verified, and
-- deletes them when the verdict is counted. A row older than a minute is a check that never
-- finished (a crashed server) and no longer counts.
CREATE TABLE login_checks (
    attempt    uuid        NOT NULL,
    key        text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt, key)
);
CREATE INDEX login_checks_by_key ON login_checks (key, started_at);
