-- The audit log names who acted and as what (API.md "Details that clients rely on": `actor`
-- {"id", "name", "kind"}): the kind is recorded with each entry from now on. Entries written
-- before are given the kind their author's grants on the conference say today (the best that
-- can be known after the fact): check-in staff, an organiser (a grant that writes, or an
-- admin), else a focal point of one of its delegations, else an organiser.
ALTER TABLE audit_log ADD COLUMN actor_kind text;

UPDATE audit_log a SET actor_kind = CASE
    WHEN a.organiser_id IS NULL THEN 'organiser'
    WHEN EXISTS (SELECT 1 FROM organisers o WHERE o.id = a.organiser_id AND o.is_admin) THEN 'organiser'
    WHEN EXISTS (SELECT 1 FROM conference_organisers g
                 WHERE g.conference_id = a.conference_id AND g.organiser_id = a.organiser_id
                   AND g.role = 'check_in') THEN 'check_in'
    WHEN EXISTS (SELECT 1 FROM conference_organisers g
                 WHERE g.conference_id = a.conference_id AND g.organiser_id = a.organiser_id) THEN 'organiser'
    WHEN EXISTS (SELECT 1 FROM focal_points f
                 WHERE f.conference_id = a.conference_id AND f.organiser_id = a.organiser_id) THEN 'focal_point'
    ELSE 'organiser'
END;

ALTER TABLE audit_log
    ALTER COLUMN actor_kind SET NOT NULL,
    ALTER COLUMN actor_kind SET DEFAULT 'organiser',
    ADD CONSTRAINT audit_log_actor_kind CHECK (actor_kind IN ('organiser', 'focal_point', 'check_in', 'system'));
