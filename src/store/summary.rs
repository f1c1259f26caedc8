//! `GET /attendance/summary`: per country, how many conferences it attended and in which role,
//! across the published and cancelled conferences whose dates overlap `from..=to`.
//!
//! A country "attended" a conference when its delegation there has status registered,
//! confirmed or attended (the statuses that count everywhere in Plenary). Drafts never count,
//! whoever asks, so the summary is the same for every caller.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::attendance::sort_name;
use super::{paginate, Page, PageRequest};
use crate::domain::input::Errors;

/// One country's line of the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, diesel::QueryableByName)]
pub struct CountrySummary {
    /// Alpha-2.
    #[diesel(sql_type = Text)]
    pub country: String,
    /// The UN English short name (`un_name`), as attendance shows it.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// UN M49 region (`"Asia"`), null for Antarctica.
    #[diesel(sql_type = Nullable<Text>)]
    pub region: Option<String>,
    /// UN M49 subregion (`"South-eastern Asia"`).
    #[diesel(sql_type = Nullable<Text>)]
    pub subregion: Option<String>,
    /// Conferences attended (one delegation per country and conference).
    #[diesel(sql_type = BigInt)]
    pub conferences: i64,
    /// Of which as host.
    #[diesel(sql_type = BigInt)]
    pub as_host: i64,
    /// Of which as member.
    #[diesel(sql_type = BigInt)]
    pub as_member: i64,
    /// Of which as observer.
    #[diesel(sql_type = BigInt)]
    pub as_observer: i64,
    /// Of which as guest (`conferences` = host + member + observer + guest).
    #[diesel(sql_type = BigInt)]
    pub as_guest: i64,
}

/// Filters of the summary; `region`/`subregion` are canonical UN M49 names (see
/// [`resolve_region`]).
#[derive(Debug, Default, Clone)]
pub struct SummaryFilter {
    /// Dates overlap `from..=to`.
    pub from: Option<NaiveDate>,
    /// Dates overlap `from..=to`.
    pub to: Option<NaiveDate>,
    /// UN M49 region.
    pub region: Option<String>,
    /// UN M49 subregion.
    pub subregion: Option<String>,
}

/// The keyset of the summary: most conferences first, then by name, then code. Stored as
/// `(-conferences, sort_name, code)` so that it sorts ascending.
pub type SummaryKey = (i64, String, String);

#[derive(diesel::QueryableByName)]
struct RegionRow {
    #[diesel(sql_type = Nullable<Text>)]
    region: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    subregion: Option<String>,
}

/// True when `given` names `canonical` in any letter case, ignoring surrounding space.
fn same_name(canonical: &str, given: &str) -> bool {
    canonical.to_lowercase() == given.trim().to_lowercase()
}

/// Checks `?region=` and `?subregion=` (UN M49 names, as the spec lists them, in any letter
/// case) against the countries table and returns their canonical spelling, recording 422s: an
/// unknown region or subregion, or a subregion outside the given region.
pub async fn resolve_region(
    conn: &mut AsyncPgConnection,
    region: Option<&str>,
    subregion: Option<&str>,
    errors: &mut Errors,
) -> diesel::QueryResult<(Option<String>, Option<String>)> {
    if region.is_none() && subregion.is_none() {
        return Ok((None, None));
    }
    let pairs: Vec<RegionRow> = diesel::sql_query(
        "SELECT DISTINCT region, subregion FROM countries WHERE region IS NOT NULL ORDER BY 1, 2",
    )
    .load(conn)
    .await?;
    let mut regions: Vec<&str> = pairs.iter().filter_map(|p| p.region.as_deref()).collect();
    regions.dedup();
    let region = region.and_then(|r| {
        let found = regions.iter().find(|c| same_name(c, r));
        if found.is_none() {
            errors.push(
                "region",
                format!("unknown UN M49 region; one of: {}", regions.join(", ")),
            );
        }
        found.map(|s| s.to_string())
    });
    let subregion = subregion.and_then(|s| {
        let found = pairs
            .iter()
            .find(|p| p.subregion.as_deref().is_some_and(|c| same_name(c, s)));
        match found {
            None => {
                errors.push("subregion", "unknown UN M49 subregion");
                None
            }
            Some(p) if region.is_some() && p.region != region => {
                errors.push(
                    "subregion",
                    format!(
                        "is not a subregion of {}",
                        region.as_deref().unwrap_or_default()
                    ),
                );
                None
            }
            Some(p) => p.subregion.clone(),
        }
    });
    Ok((region, subregion))
}

/// The summary, one line per country with at least one conference that counts, most
/// conferences first (then by name), keyset-paginated on [`SummaryKey`].
pub async fn per_country(
    conn: &mut AsyncPgConnection,
    filter: &SummaryFilter,
    page: &PageRequest<SummaryKey>,
) -> diesel::QueryResult<Page<CountrySummary>> {
    let rows: Vec<CountrySummary> = diesel::sql_query(
        "SELECT c.code AS country, c.un_name AS name, c.region, c.subregion,
                count(*) AS conferences,
                count(*) FILTER (WHERE d.role = 'host') AS as_host,
                count(*) FILTER (WHERE d.role = 'member') AS as_member,
                count(*) FILTER (WHERE d.role = 'observer') AS as_observer,
                count(*) FILTER (WHERE d.role = 'guest') AS as_guest
           FROM delegations d
           JOIN conferences k ON k.id = d.conference_id
           JOIN countries c ON c.code = d.country
          WHERE d.status IN ('registered', 'confirmed', 'attended')
            AND k.status IN ('published', 'cancelled')
            AND ($1::date IS NULL OR k.end_date >= $1::date)
            AND ($2::date IS NULL OR k.start_date <= $2::date)
            AND ($3::text IS NULL OR c.region = $3::text)
            AND ($4::text IS NULL OR c.subregion = $4::text)
          GROUP BY c.code",
    )
    .bind::<Nullable<Date>, _>(filter.from)
    .bind::<Nullable<Date>, _>(filter.to)
    .bind::<Nullable<Text>, _>(filter.region.as_deref())
    .bind::<Nullable<Text>, _>(filter.subregion.as_deref())
    .load(conn)
    .await?;
    let key = |r: &CountrySummary| -> SummaryKey {
        (-r.conferences, sort_name(&r.name), r.country.clone())
    };
    let mut keyed: Vec<(SummaryKey, CountrySummary)> = rows
        .into_iter()
        .map(|r| (key(&r), r))
        .filter(|(k, _)| page.after.as_ref().is_none_or(|after| k > after))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.truncate(usize::try_from(page.limit).unwrap_or(0).saturating_add(1));
    Ok(paginate(keyed, page.limit, |(k, _)| k.clone(), |(_, r)| r))
}
