//! Who attended what: per conference, per country and per organisation.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::vocab::{DelegationRole, DelegationStatus, NominationStatus};

use crate::domain::country::CountryIndex;

use super::conferences::{ConferenceKey, ConferenceRow};
use super::protocol::{self, Line};
use super::{paginate, Caller, Page, PageRequest};
use crate::db::schema::{conferences, delegation_members, delegations};
use crate::domain::conference::Conference;

/// A country's line in a conference's attendance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountryAttendance {
    /// Alpha-2.
    pub country: String,
    /// English short name.
    pub name: String,
    /// Role at the conference.
    pub role: DelegationRole,
    /// Delegation status.
    pub status: DelegationStatus,
    /// Stated size, or null.
    pub size: Option<i32>,
}

/// An organisation's line in a conference's attendance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OrganisationAttendance {
    /// The organisation.
    pub organisation_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its acronym.
    pub acronym: Option<String>,
    /// Role at the conference.
    pub role: DelegationRole,
    /// Delegation status.
    pub status: DelegationStatus,
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
    /// Delegates in all: `delegates_stated` + `delegates_listed`.
    pub delegates: i64,
    /// The sum of the stated `size` of the delegations that count and state one.
    pub delegates_stated: i64,
    /// The accepted members of the delegations that count and state no `size` (those of a
    /// delegation with a stated size are in its size).
    pub delegates_listed: i64,
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
    /// The conference's explicit order if it has one, else host first, then states by English
    /// short name (ignoring a leading "the"), then organisations by name
    /// ([`super::protocol`]).
    Protocol,
}

/// Sort key of a name: lower case, accents removed (Unicode NFD without combining marks, so
/// "Côte d'Ivoire" sorts under C and "Åland Islands" under A), surrounding space and a
/// leading "the" ignored ("the Philippines" sorts under P).
pub fn sort_name(name: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name
        .trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase();
    match folded.strip_prefix("the ") {
        Some(rest) => rest.trim_start().to_string(),
        None => folded,
    }
}

/// The attendance of a conference: delegations whose status is registered, confirmed or
/// attended. `Order::Protocol` follows [`super::protocol`] (an explicit order wins);
/// `Order::Name` sorts each list by [`sort_name`].
pub async fn of_conference(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference: ConferenceRow,
    order: Order,
) -> QueryResult<ConferenceAttendance> {
    let mut lines: Vec<Line> = protocol::lines(conn, countries, conference.id)
        .await?
        .into_iter()
        .filter(Line::counts)
        .collect();
    if order == Order::Name {
        lines.sort_by_cached_key(|l| (sort_name(&l.name), l.delegation.id));
    }
    let mut countries = Vec::new();
    let mut organisations = Vec::new();
    let sizes: Vec<Option<i32>> = lines.iter().map(|l| l.delegation.size).collect();
    let without_size: Vec<Uuid> = lines
        .iter()
        .filter(|l| l.delegation.size.is_none())
        .map(|l| l.delegation.id)
        .collect();
    for l in lines {
        let d = l.delegation;
        match (d.country, d.organisation_id) {
            (Some(country), _) => countries.push(CountryAttendance {
                country,
                name: l.name,
                role: d.role,
                status: d.status,
                size: d.size,
            }),
            (None, Some(organisation_id)) => organisations.push(OrganisationAttendance {
                organisation_id,
                name: l.name,
                acronym: l.acronym,
                role: d.role,
                status: d.status,
                size: d.size,
            }),
            (None, None) => {}
        }
    }
    let delegates_stated = sizes.iter().filter_map(|s| *s).map(i64::from).sum();
    let delegates_listed = if without_size.is_empty() {
        0
    } else {
        delegation_members::table
            .filter(delegation_members::delegation_id.eq_any(&without_size))
            .filter(delegation_members::nomination_status.eq(NominationStatus::Accepted))
            .count()
            .get_result(conn)
            .await?
    };
    Ok(ConferenceAttendance {
        totals: Totals {
            countries: countries.len(),
            organisations: organisations.len(),
            delegates: delegates_stated + delegates_listed,
            delegates_stated,
            delegates_listed,
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
    pub role: DelegationRole,
    /// Delegation status there.
    pub status: DelegationStatus,
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
    if let Some(visible) = super::conferences::visible_to(caller) {
        query = query.filter(visible);
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
    let rows: Vec<(ConferenceRow, DelegationRole, DelegationStatus)> = query.load(conn).await?;
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

#[cfg(test)]
mod tests {
    use super::sort_name;

    #[test]
    fn sort_names_ignore_case_accents_and_a_leading_the() {
        assert_eq!(sort_name("the Philippines"), "philippines");
        assert_eq!(sort_name("  The  Gambia "), "gambia");
        assert_eq!(sort_name("Côte d'Ivoire"), "cote d'ivoire");
        assert_eq!(sort_name("Åland Islands"), "aland islands");
        assert_eq!(sort_name("Türkiye"), "turkiye");
        assert_eq!(sort_name("Theatre Guild"), "theatre guild");
        let mut names = vec![
            "Viet Nam",
            "Åland Islands",
            "the Bahamas",
            "Côte d'Ivoire",
            "China",
        ];
        names.sort_by_key(|n| sort_name(n));
        assert_eq!(
            names,
            vec![
                "Åland Islands",
                "the Bahamas",
                "China",
                "Côte d'Ivoire",
                "Viet Nam"
            ]
        );
    }
}
