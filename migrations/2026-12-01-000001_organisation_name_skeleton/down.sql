DROP INDEX IF EXISTS organisations_name_skeleton_key;
ALTER TABLE organisations DROP COLUMN IF EXISTS name_skeleton;
