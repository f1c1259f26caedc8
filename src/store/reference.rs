//! Reference data: the ISO 3166-1 countries and their aliases (from the `keshvar` crate),
//! brought up to date after every migration with the organisations' name skeletons, and
//! the country index every worker reads.

use anyhow::Context;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::organisations;
use crate::db;
use crate::domain::country::{iso_countries, CountryIndex};

/// Applies pending migrations ([`db::migrate`]), then synchronises the ISO 3166-1 reference
/// data ([`sync_countries`]) and fills the organisations' name skeletons
/// ([`organisations::sync_skeletons`]).
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    db::migrate(url).await?;
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .context("connecting to the database")?;
    sync_countries(&mut conn).await?;
    let clashes = organisations::sync_skeletons(&mut conn)
        .await
        .context("computing organisation name skeletons")?;
    for (id, name) in clashes {
        tracing::warn!(%id, %name, "organisation name looks like another organisation's");
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = crate::db::schema::countries)]
struct NewCountry<'a> {
    code: &'a str,
    alpha3: &'a str,
    numeric: &'a str,
    name: &'a str,
    un_name: &'a str,
    official_name: &'a str,
    region: Option<&'a str>,
    subregion: Option<&'a str>,
}

/// Upserts every ISO 3166-1 entry of the `keshvar` crate and its aliases, in one transaction.
pub async fn sync_countries(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    use crate::db::schema::{countries as c, country_aliases as a};
    let records = iso_countries();
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let rows: Vec<NewCountry<'_>> = records
            .iter()
            .map(|r| NewCountry {
                code: &r.code,
                alpha3: &r.alpha3,
                numeric: &r.numeric,
                name: &r.name,
                un_name: &r.un_name,
                official_name: &r.official_name,
                region: r.region.as_deref(),
                subregion: r.subregion.as_deref(),
            })
            .collect();
        diesel::insert_into(c::table)
            .values(&rows)
            .on_conflict(c::code)
            .do_update()
            .set((
                c::alpha3.eq(excluded(c::alpha3)),
                c::numeric.eq(excluded(c::numeric)),
                c::name.eq(excluded(c::name)),
                c::un_name.eq(excluded(c::un_name)),
                c::official_name.eq(excluded(c::official_name)),
                c::region.eq(excluded(c::region)),
                c::subregion.eq(excluded(c::subregion)),
            ))
            .execute(conn)
            .await?;
        let aliases: Vec<(String, String)> = records
            .iter()
            .flat_map(|r| r.aliases.iter().map(|al| (al.clone(), r.code.clone())))
            .collect();
        let values: Vec<_> = aliases
            .iter()
            .map(|(alias, code)| (a::alias.eq(alias), a::code.eq(code)))
            .collect();
        diesel::insert_into(a::table)
            .values(&values)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        // An alias the gazetteer no longer lists (a name found to be several countries,
        // such as "Congo") is no longer accepted.
        let keys: Vec<&String> = aliases.iter().map(|(alias, _)| alias).collect();
        diesel::delete(a::table.filter(a::alias.ne_all(keys)))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
    .context("synchronising ISO 3166-1 countries")
}

/// Loads the country index (every accepted input form to alpha-2) from the database.
pub async fn country_index(conn: &mut AsyncPgConnection) -> anyhow::Result<CountryIndex> {
    use crate::db::schema::{countries as c, country_aliases as a};
    let rows: Vec<(String, String, String)> = c::table
        .select((c::code, c::alpha3, c::un_name))
        .load(conn)
        .await
        .context("loading countries")?;
    let aliases: Vec<(String, String)> = a::table
        .select((a::alias, a::code))
        .load(conn)
        .await
        .context("loading country aliases")?;
    Ok(CountryIndex::new(rows, aliases))
}
