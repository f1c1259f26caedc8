ALTER TABLE countries DROP COLUMN un_name;
