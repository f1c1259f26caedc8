ALTER TABLE conferences DROP COLUMN quotas, DROP COLUMN nominations_close_at, DROP COLUMN protocol_host;
ALTER TABLE delegation_members DROP COLUMN nomination_note, DROP COLUMN nomination_status,
    DROP COLUMN gender, DROP COLUMN category, DROP COLUMN honorific, DROP COLUMN native_name,
    DROP COLUMN family_name;
DROP TABLE focal_points;
ALTER TABLE organisers DROP COLUMN is_organiser;
