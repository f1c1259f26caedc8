//! Who attended what: per conference, per country and per organisation.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::conferences::{ConferenceKey, ConferenceRow};
use super::{paginate, Caller, Page, PageRequest};
use crate::db::schema::{
    conference_organisers, conferences, countries, delegations, organisations,
};
use crate::domain::conference::Conference;
use crate::domain::ATTENDING_STATUSES;

/// A country's line in a conference's attendance.
#[derive(Debug, Clone, Serialize, PartialEq, Queryable)]
pub struct CountryAttendance {
    /// Alpha-2.
    pub country: String,
    /// English short name.
    pub name: String,
    /// Role at the conference.
    pub role: String,
    /// Delegation status.
    pub status: String,
    /// Stated size, or null.
    pub size: Option<i32>,
}

/// An organisation's line in a conference's attendance.
#[derive(Debug, Clone, Serialize, PartialEq, Queryable)]
pub struct OrganisationAttendance {
    /// The organisation.
    pub organisation_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its acronym.
    pub acronym: Option<String>,
    /// Role at the conference.
    pub role: String,
    /// Delegation status.
    pub status: String,
    /// Stated size, or null.
    pub size: Option<i32>,
}

/// Counts of a conference's attendance.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Totals {
    /// Countries whose delegation counts.
    pub countries: usize,
    /// Organisations whose delegation counts.
    pub organisations: usize,
    /// Sum of the known sizes of the delegations that count.
    pub delegates: i64,
}

/// `GET /conferences/{id}/attendance`.
#[derive(Debug, Clone, Serialize)]
pub struct ConferenceAttendance {
    /// The conference.
    pub conference: Conference,
    /// Countries.
    pub countries: Vec<CountryAttendance>,
    /// Organisations.
    pub organisations: Vec<OrganisationAttendance>,
    /// Totals.
    pub totals: Totals,
}

/// Order of attendance lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By English short name.
    Name,
    /// Host first, then states by English short name (ignoring a leading "the"), then
    /// organisations by name.
    Protocol,
}

/// Sort key of a name ignoring case and a leading "the".
pub fn sort_name(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    lower.strip_prefix("the ").unwrap_or(&lower).to_string()
}

/// The attendance of a conference: delegations whose status is registered, confirmed or
/// attended.
pub async fn of_conference(
    conn: &mut AsyncPgConnection,
    conference: ConferenceRow,
    order: Order,
) -> QueryResult<ConferenceAttendance> {
    // Countries and organisations in one round trip: every delegation has exactly one of
    // them (a CHECK constraint), so each row joins exactly one side.
    type Line = (
        Option<String>,
        Option<String>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<i32>,
    );
    let lines: Vec<Line> = delegations::table
        .left_join(countries::table.on(countries::code.nullable().eq(delegations::country)))
        .left_join(
            organisations::table.on(organisations::id
                .nullable()
                .eq(delegations::organisation_id)),
        )
        .filter(delegations::conference_id.eq(conference.id))
        .filter(delegations::status.eq_any(ATTENDING_STATUSES))
        .select((
            countries::code.nullable(),
            countries::name.nullable(),
            organisations::id.nullable(),
            organisations::name.nullable(),
            organisations::acronym.nullable(),
            delegations::role,
            delegations::status,
            delegations::size,
        ))
        .load(conn)
        .await?;
    let mut countries = Vec::new();
    let mut organisations = Vec::new();
    for (code, country_name, org_id, org_name, acronym, role, status, size) in lines {
        match (code, country_name, org_id, org_name) {
            (Some(country), Some(name), _, _) => countries.push(CountryAttendance {
                country,
                name,
                role,
                status,
                size,
            }),
            (_, _, Some(organisation_id), Some(name)) => {
                organisations.push(OrganisationAttendance {
                    organisation_id,
                    name,
                    acronym,
                    role,
                    status,
                    size,
                })
            }
            _ => {}
        }
    }
    let host_first = |role: &str| u8::from(order == Order::Protocol && role != "host");
    // Cached keys: `sort_name` allocates, once per row rather than once per comparison.
    countries.sort_by_cached_key(|c| (host_first(&c.role), sort_name(&c.name)));
    organisations.sort_by_cached_key(|o| (host_first(&o.role), sort_name(&o.name)));
    let delegates = countries
        .iter()
        .filter_map(|c| c.size)
        .chain(organisations.iter().filter_map(|o| o.size))
        .map(i64::from)
        .sum();
    Ok(ConferenceAttendance {
        totals: Totals {
            countries: countries.len(),
            organisations: organisations.len(),
            delegates,
        },
        conference: conference.into(),
        countries,
        organisations,
    })
}

/// One line of a country's or organisation's attendance history.
#[derive(Debug, Clone, Serialize)]
pub struct Participation {
    /// The conference.
    pub conference: Conference,
    /// Role there.
    pub role: String,
    /// Delegation status there.
    pub status: String,
}

/// Whose history to list.
#[derive(Debug, Clone)]
pub enum Party {
    /// A country (alpha-2).
    Country(String),
    /// An organisation.
    Organisation(Uuid),
}

/// The conferences a country or organisation took part in (any delegation status), newest
/// first, among those `caller` may see; `from`/`to` select overlapping dates.
///
/// Ordered and paged on the delegation's copy of the conference's start date
/// (`delegations.conference_start_date`, equal to `conferences.start_date`), so that the
/// party's history index returns a page in order without reading the whole history.
pub async fn history(
    conn: &mut AsyncPgConnection,
    party: &Party,
    caller: Option<Caller>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    page: &PageRequest<ConferenceKey>,
) -> QueryResult<Page<Participation>> {
    let mut query = delegations::table
        .inner_join(conferences::table)
        .select((
            ConferenceRow::as_select(),
            delegations::role,
            delegations::status,
        ))
        .order((
            delegations::conference_start_date.desc(),
            delegations::conference_id.desc(),
        ))
        .limit(page.limit + 1)
        .into_boxed();
    query = match party {
        Party::Country(code) => query.filter(delegations::country.eq(code.clone())),
        Party::Organisation(id) => query.filter(delegations::organisation_id.eq(*id)),
    };
    match caller {
        Some(c) if c.is_admin => {}
        Some(c) => {
            let mine = conference_organisers::table
                .filter(conference_organisers::organiser_id.eq(c.id))
                .select(conference_organisers::conference_id);
            query = query.filter(
                conferences::status
                    .ne("draft")
                    .or(conferences::id.eq_any(mine)),
            );
        }
        None => query = query.filter(conferences::status.ne("draft")),
    }
    if let Some(from) = from {
        query = query.filter(conferences::end_date.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(delegations::conference_start_date.le(to));
    }
    if let Some((date, id)) = page.after {
        query = query.filter(
            delegations::conference_start_date
                .lt(date)
                .or(delegations::conference_start_date
                    .eq(date)
                    .and(delegations::conference_id.lt(id))),
        );
    }
    let rows: Vec<(ConferenceRow, String, String)> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |(c, _, _)| (c.start_date, c.id),
        |(c, role, status)| Participation {
            conference: c.into(),
            role,
            status,
        },
    ))
}
