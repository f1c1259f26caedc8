-- The United Nations' English short name of each country (UN M49 "Country or Area"), which
-- attendance, participants and exports show and protocol order sorts by. Filled by the
-- ISO 3166-1 synchronisation that runs after every migration (src/db/mod.rs).
ALTER TABLE countries ADD COLUMN un_name text NOT NULL DEFAULT '';
