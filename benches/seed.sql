-- Plenary benchmark data set, generated in SQL. benches/run.sh runs it on a freshly migrated
-- database (the 249 ISO 3166-1 countries are already there), after `plenary organiser add`
-- created the benchmark organiser.
--
-- psql variables:
--   :conferences  how many conferences (run.sh: 10000, and 1000 / 100000 for scaling)
--   :owner        email of the organiser who owns every conference (so the write scenario
--                 may add delegations to any of them)
--   :people       1: also members (about 4 per delegation) and 6 sessions per conference;
--                 0: skip them (the scaling data sets: no benchmarked request reads them, and
--                 16 million members would take minutes to write)
--
-- Shape: 50 other organisers; 2 000 organisations; conferences spread evenly over 20 years
-- (2006-2025), 90 % published, 7 % drafts, 3 % cancelled; per conference 25-40 country
-- delegations (the venue's country as host) and 4-12 organisation delegations (about 40 in
-- all), statuses mostly attended/confirmed/registered. Random but reproducible (setseed).
-- Ids are UUID v7-shaped (48-bit milliseconds of creation time, version 7, variant 10) and,
-- like Plenary's, ascend with creation time; their low bits are a counter instead of random.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- Bulk load: the rows are consistent by construction, so skip the per-row foreign key
-- triggers (superuser only; the embedded cluster's role is one). The schema's own triggers
-- (they keep derived columns in sync) stay on: made to fire in replica mode for the load.
CREATE TEMP TABLE bench_triggers AS
    SELECT tgrelid::regclass AS tab, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'O';
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT * FROM bench_triggers LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', t.tab, t.tgname);
    END LOOP;
END
$$;
SET session_replication_role = replica;
SET work_mem = '256MB';
SELECT setseed(0.42) \gset

CREATE SEQUENCE pg_temp.bench_seq;
-- UUID v7 shape for a creation time; the 62 low bits are the counter `seq`.
CREATE FUNCTION pg_temp.uuid7(ts timestamptz, seq bigint) RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
          || lpad(to_hex((seq >> 50) & 4095), 3, '0') || '8'
          || lpad(to_hex(seq & 1125899906842623), 15, '0'))::uuid
$$;

CREATE TEMP TABLE bench_countries AS
  SELECT (row_number() OVER (ORDER BY code) - 1)::int AS n, code FROM countries;
ANALYZE bench_countries;

-- Other organisers (they cannot log in: their hash is not a PHC string).
INSERT INTO organisers (id, email, name, password_hash, is_admin)
SELECT pg_temp.uuid7(now() - interval '3 years' + i * interval '1 hour', nextval('pg_temp.bench_seq')),
       'organiser' || i || '@bench.example', 'Organiser ' || i, 'x', false
FROM generate_series(1, 50) AS i;

INSERT INTO organisations (id, name, acronym, kind, country, website, created_at, updated_at)
SELECT pg_temp.uuid7(timestamptz '2005-01-01' + i * interval '1 hour', nextval('pg_temp.bench_seq')),
       'Organisation ' || i || ' for regional cooperation', 'ORG' || i,
       (ARRAY['intergovernmental', 'government_agency', 'non_governmental', 'other'])[1 + i % 4],
       CASE WHEN i % 5 <> 0 THEN bc.code END,
       'https://org' || i || '.example.org',
       timestamptz '2005-01-01' + i * interval '1 hour',
       timestamptz '2005-01-01' + i * interval '1 hour'
FROM generate_series(1, 2000) AS i JOIN bench_countries bc ON bc.n = i % 249;

CREATE TEMP TABLE bench_organisations AS
  SELECT (row_number() OVER (ORDER BY id) - 1)::int AS n, id FROM organisations;
ANALYZE bench_organisations;

-- Per conference: its date, venue, and how to pick its distinct countries and organisations
-- (venue + j * step mod 249 with a step coprime to 249 = 3 * 83; start + 7 j mod 2000).
CREATE TEMP TABLE bench_conf AS
SELECT i,
       pg_temp.uuid7(d - interval '120 days' + i * interval '1 millisecond', nextval('pg_temp.bench_seq')) AS id,
       d AS start_date,
       d - interval '120 days' AS created_at,
       floor(random() * 4)::int AS days,
       random() AS r,
       floor(random() * 249)::int AS venue_n,
       (ARRAY[1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20, 22, 23, 25, 26, 28, 29, 31, 32,
              34, 35, 37, 38, 40, 41, 43, 44, 46, 47, 49, 50, 52, 53])[1 + floor(random() * 36)::int] AS step_c,
       floor(random() * 2000)::int AS start_o,
       25 + floor(random() * 16)::int AS n_countries,
       4 + floor(random() * 9)::int AS n_orgs
FROM generate_series(1, :conferences) AS i,
     LATERAL (SELECT date '2006-01-01' + ((i - 1)::bigint * 7300 / :conferences)::int AS d) AS dd;

INSERT INTO conferences (id, title, theme, status, start_date, end_date, time_zone, venue_name,
                         venue_city, venue_region, venue_country, host_country, source_url,
                         participants_public, created_by, created_at, updated_at)
SELECT c.id,
       'Regional Conference ' || c.i || ' on Migration Governance',
       CASE WHEN c.i % 3 <> 0 THEN 'Cooperation, border management and mobility, edition ' || c.i END,
       CASE WHEN c.r < 0.90 THEN 'published' WHEN c.r < 0.97 THEN 'draft' ELSE 'cancelled' END,
       c.start_date, c.start_date + c.days,
       (ARRAY['UTC', 'Asia/Shanghai', 'Europe/Geneva', 'America/New_York', 'Asia/Bangkok'])[1 + c.i % 5],
       'Convention Centre ' || (c.i % 97), 'City ' || (c.i % 500), NULL,
       bc.code, bc.code,
       CASE WHEN c.i % 4 = 0 THEN 'https://news.example.org/' || c.i END,
       c.i % 2 = 0,
       o.id, c.created_at, c.created_at
FROM bench_conf c
JOIN bench_countries bc ON bc.n = c.venue_n
CROSS JOIN (SELECT id FROM organisers WHERE lower(email) = lower(:'owner')) o
ORDER BY c.i;

INSERT INTO conference_organisers (conference_id, organiser_id, role, created_at)
SELECT c.id, o.id, 'owner', c.created_at
FROM bench_conf c, organisers o WHERE lower(o.email) = lower(:'owner');
-- A third of them also have an editor.
INSERT INTO conference_organisers (conference_id, organiser_id, role, created_at)
SELECT c.id, o.id, 'editor', c.created_at
FROM bench_conf c
JOIN organisers o ON o.email = 'organiser' || (1 + c.i % 50) || '@bench.example'
WHERE c.i % 3 = 0;

-- Delegations, a conference's together: countries first (j = 0 is the venue's country, the
-- host), then organisations.
INSERT INTO delegations (id, conference_id, country, organisation_id, authority, role, status,
                         head_name, head_title, size, created_at, updated_at)
SELECT pg_temp.uuid7(d.ts, nextval('pg_temp.bench_seq')),
       d.conference_id, d.country, d.organisation_id,
       CASE WHEN d.country IS NOT NULL AND d.r1 < 0.5 THEN 'Ministry of Foreign Affairs' END,
       CASE WHEN d.j = 0 THEN 'host'
            WHEN d.r1 < 0.80 THEN 'member' WHEN d.r1 < 0.95 THEN 'observer' ELSE 'guest' END,
       CASE WHEN d.r2 < 0.60 THEN 'attended' WHEN d.r2 < 0.75 THEN 'confirmed'
            WHEN d.r2 < 0.85 THEN 'registered' WHEN d.r2 < 0.90 THEN 'invited'
            WHEN d.r2 < 0.95 THEN 'declined' ELSE 'withdrawn' END,
       CASE WHEN d.r3 < 0.7 THEN 'Head of delegation ' || d.j END,
       CASE WHEN d.r3 < 0.35 THEN 'Director-General' END,
       CASE WHEN d.r3 < 0.9 THEN 1 + floor(d.r3 * 13)::int END,
       d.ts, d.ts
FROM (
    SELECT x.*, x.created_at + x.j * interval '1 millisecond' AS ts,
           random() AS r1, random() AS r2, random() AS r3
    FROM (
        SELECT c.i, c.id AS conference_id, c.created_at, g.j, bc.code AS country,
               NULL::uuid AS organisation_id
        FROM bench_conf c
        CROSS JOIN LATERAL generate_series(0, c.n_countries - 1) AS g(j)
        JOIN bench_countries bc ON bc.n = (c.venue_n + g.j * c.step_c) % 249
        UNION ALL
        SELECT c.i, c.id, c.created_at, c.n_countries + g.j, NULL, bo.id
        FROM bench_conf c
        CROSS JOIN LATERAL generate_series(0, c.n_orgs - 1) AS g(j)
        JOIN bench_organisations bo ON bo.n = (c.start_o + g.j * 7) % 2000
    ) x
    ORDER BY x.i, x.j
) d;

-- About 4 members per delegation (2-6), the first one the head when there is a head.
INSERT INTO delegation_members (id, delegation_id, full_name, title, position, is_head, email,
                                created_at, updated_at)
SELECT pg_temp.uuid7(d.created_at, nextval('pg_temp.bench_seq')), d.id,
       'Delegate ' || m || ' of ' || left(d.id::text, 8),
       CASE WHEN m % 2 = 0 THEN 'Ms' ELSE 'Mr' END,
       CASE WHEN m = 1 THEN 'Head of delegation' ELSE 'Adviser' END,
       m = 1 AND d.head_name IS NOT NULL,
       CASE WHEN m % 3 = 0 THEN 'delegate' || m || '@' || left(d.id::text, 8) || '.example' END,
       d.created_at, d.created_at
FROM delegations d
CROSS JOIN LATERAL generate_series(1, 2 + (get_byte(uuid_send(d.id), 15) % 5)) AS m
WHERE :people = 1
ORDER BY d.id, m;

-- Six sessions, 12:00-13:00 UTC on the conference's days (inside its dates in every zone used).
INSERT INTO sessions (id, conference_id, title, kind, starts_at, ends_at, room, chair,
                      created_at, updated_at)
SELECT pg_temp.uuid7(c.created_at, nextval('pg_temp.bench_seq')), c.id,
       'Session ' || s,
       (ARRAY['opening', 'plenary', 'panel', 'plenary', 'side_event', 'closing'])[s],
       (c.start_date + (s - 1) % (c.days + 1))::timestamp AT TIME ZONE 'UTC' + interval '12 hours',
       (c.start_date + (s - 1) % (c.days + 1))::timestamp AT TIME ZONE 'UTC' + interval '13 hours',
       'Room ' || s, NULL, c.created_at, c.created_at
FROM bench_conf c CROSS JOIN generate_series(1, 6) AS s
WHERE :people = 1
ORDER BY c.i, s;

RESET session_replication_role;
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT * FROM bench_triggers LOOP
        EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', t.tab, t.tgname);
    END LOOP;
END
$$;
VACUUM ANALYZE;
