DROP TABLE check_ins;
DROP TRIGGER delegations_revoke_badges ON delegations;
DROP FUNCTION plenary_revoke_delegation_badges();
DROP TRIGGER delegation_members_revoke_badge ON delegation_members;
DROP FUNCTION plenary_revoke_member_badge();
DROP TABLE badges;
DROP TABLE badge_keys;
DELETE FROM conference_organisers WHERE role = 'check_in';
ALTER TABLE conference_organisers DROP CONSTRAINT conference_organisers_role_check;
ALTER TABLE conference_organisers ADD CONSTRAINT conference_organisers_role_check
    CHECK (role IN ('owner', 'editor'));
