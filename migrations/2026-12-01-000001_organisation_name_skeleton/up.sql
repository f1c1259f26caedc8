-- Organisation names are unique by what a reader sees: the Unicode TR39 confusable skeleton
-- of the lower-cased name (domain::organisation::name_skeleton), so "Zebrа" (Cyrillic а) or a
-- name with a zero-width space cannot sit beside "Zebra". SQL cannot compute TR39 skeletons:
-- the column starts NULL and `plenary` fills it at start, right after the migrations
-- (store::organisations::sync_skeletons, like the ISO 3166-1 table); the store sets it on every
-- insert and rename. NULLs are distinct, so rows not yet filled never collide; the existing
-- organisations_name_key (lower(name)) stays as the case-insensitive guarantee for them.
ALTER TABLE organisations ADD COLUMN name_skeleton text;
CREATE UNIQUE INDEX organisations_name_skeleton_key ON organisations (name_skeleton);
