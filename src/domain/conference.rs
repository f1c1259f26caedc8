//! Conferences: a meeting with dates, a venue, an IANA time zone and a host; the rules its
//! focal points nominate under (a deadline and member quotas, API.md "Accreditation").

use std::io::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::country::CountryIndex;
use super::input::{Errors, Field, Invalid, Obj};
use super::vocab::{ConferenceStatus, MemberCategory, ProtocolHost};
use super::Mode;

/// Where a conference takes place.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Venue {
    /// Building or hall, if known.
    pub name: Option<String>,
    /// City (`"Lianyungang"`).
    pub city: String,
    /// Province, state or region (`"Jiangsu"`), if any.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 of the venue (`"CN"`).
    pub country: String,
}

/// The largest quota accepted.
pub const MAX_QUOTA: i64 = 100_000;

/// How many members a delegation may have (nominated and accepted ones count): in all
/// (`per_delegation`) and per [`MemberCategory`]. `None` is no limit, as is a key left out of
/// the input. Stored as a `jsonb` object with these keys.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = Jsonb)]
#[serde(default)]
pub struct Quotas {
    /// Members of one delegation in all.
    pub per_delegation: Option<i32>,
    /// Representatives.
    pub representative: Option<i32>,
    /// Alternates.
    pub alternate: Option<i32>,
    /// Advisers.
    pub adviser: Option<i32>,
    /// Experts.
    pub expert: Option<i32>,
    /// Observers.
    pub observer: Option<i32>,
    /// Support staff.
    pub support: Option<i32>,
}

impl Quotas {
    /// The name of the quota on the whole delegation.
    pub const PER_DELEGATION: &'static str = "per_delegation";

    /// The quota of `category`, if it has one.
    pub fn of(&self, category: MemberCategory) -> Option<i32> {
        match category {
            MemberCategory::Representative => self.representative,
            MemberCategory::Alternate => self.alternate,
            MemberCategory::Adviser => self.adviser,
            MemberCategory::Expert => self.expert,
            MemberCategory::Observer => self.observer,
            MemberCategory::Support => self.support,
        }
    }
}

impl ToSql<Jsonb, Pg> for Quotas {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // jsonb's binary format: a version byte, then the JSON text.
        out.write_all(&[1])?;
        serde_json::to_writer(out, self)?;
        Ok(IsNull::No)
    }
}

impl FromSql<Jsonb, Pg> for Quotas {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let value = <Value as FromSql<Jsonb, Pg>>::from_sql(bytes)?;
        Ok(serde_json::from_value(value)?)
    }
}

/// A conference as returned by the API.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Conference {
    /// UUID v7.
    pub id: Uuid,
    /// 1..300 characters.
    pub title: String,
    /// Theme or motto, if any.
    pub theme: Option<String>,
    /// `draft`, `published` or `cancelled`.
    pub status: ConferenceStatus,
    /// First day, in the conference's time zone.
    pub start_date: NaiveDate,
    /// Last day (>= `start_date`).
    pub end_date: NaiveDate,
    /// IANA time zone name (`"Asia/Shanghai"`).
    pub time_zone: String,
    /// The venue.
    pub venue: Venue,
    /// Alpha-2 of the host state, if any.
    pub host_country: Option<String>,
    /// The host organisation (e.g. a national agency), if any.
    pub host_organisation_id: Option<Uuid>,
    /// Where the information comes from.
    pub source_url: Option<String>,
    /// Whether the list of participants is public.
    pub participants_public: bool,
    /// Whether the host delegations come first or last in protocol order.
    pub protocol_host: ProtocolHost,
    /// After this instant focal points may no longer change their nominations; null: no
    /// deadline.
    pub nominations_close_at: Option<DateTime<Utc>>,
    /// Member quotas per delegation; null: no limits.
    pub quotas: Option<Quotas>,
    /// RFC 3339.
    pub created_at: DateTime<Utc>,
    /// RFC 3339.
    pub updated_at: DateTime<Utc>,
}

/// The fields a conference `POST` or `PATCH` sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConferenceChanges {
    /// Title.
    pub title: Option<String>,
    /// Theme or null.
    pub theme: Option<Option<String>>,
    /// Status.
    pub status: Option<ConferenceStatus>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// IANA zone.
    pub time_zone: Option<chrono_tz::Tz>,
    /// The whole venue (a PATCH replaces it as a whole).
    pub venue: Option<Venue>,
    /// Host state or null.
    pub host_country: Option<Option<String>>,
    /// Host organisation or null.
    pub host_organisation_id: Option<Option<Uuid>>,
    /// Source URL or null.
    pub source_url: Option<Option<String>>,
    /// Participants list public.
    pub participants_public: Option<bool>,
    /// The host's place in protocol order.
    pub protocol_host: Option<ProtocolHost>,
    /// Nominations deadline or null.
    pub nominations_close_at: Option<Option<DateTime<Utc>>>,
    /// The whole quotas object (a PATCH replaces it as a whole) or null.
    pub quotas: Option<Option<Quotas>>,
}

fn parse_venue(o: &mut Obj<'_>, countries: &CountryIndex, errors: &mut Errors) -> Field<Venue> {
    let path = o.path("venue");
    match o.raw("venue") {
        Field::Value(v) => {
            let Some(mut vo) = Obj::new(v, &path, errors) else {
                return Field::Invalid;
            };
            let name = vo.text("name", 300, errors).value();
            let city = vo.string("city", 1, 200, errors);
            let region = vo.text("region", 200, errors).value();
            let country = vo.country("country", countries, errors);
            let city = vo.required("city", city, errors);
            let country = vo.required("country", country, errors);
            vo.finish(errors);
            match (city, country) {
                (Some(city), Some(country)) => Field::Value(Venue {
                    name,
                    city,
                    region,
                    country,
                }),
                _ => Field::Invalid,
            }
        }
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Invalid => Field::Invalid,
    }
}

/// Reads `quotas`: an object of `per_delegation` and the member categories, each an integer
/// 0..=[`MAX_QUOTA`] or null; any other key is an unknown field (`quotas.<key>`).
fn parse_quotas(o: &mut Obj<'_>, errors: &mut Errors) -> Field<Quotas> {
    let path = o.path("quotas");
    match o.raw("quotas") {
        Field::Value(v) => {
            let Some(mut qo) = Obj::new(v, &path, errors) else {
                return Field::Invalid;
            };
            let mut limit = |name: &'static str| qo.integer(name, 0, MAX_QUOTA, errors).value();
            use MemberCategory as C;
            let quotas = Quotas {
                per_delegation: limit(Quotas::PER_DELEGATION),
                representative: limit(C::Representative.as_str()),
                alternate: limit(C::Alternate.as_str()),
                adviser: limit(C::Adviser.as_str()),
                expert: limit(C::Expert.as_str()),
                observer: limit(C::Observer.as_str()),
                support: limit(C::Support.as_str()),
            };
            qo.finish(errors);
            Field::Value(quotas)
        }
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Invalid => Field::Invalid,
    }
}

/// Reads a conference body. Errors: 422 listing every invalid or unknown field.
pub fn parse_conference(
    body: &Value,
    countries: &CountryIndex,
    mode: Mode,
) -> Result<ConferenceChanges, Invalid> {
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(ConferenceChanges::default());
    };
    let title = o.string("title", 1, 300, &mut errors);
    let theme = o.paragraphs("theme", 2000, &mut errors);
    let status = o
        .one_of("status", ConferenceStatus::ALL, &mut errors)
        .filter_map(ConferenceStatus::parse);
    let start_date = o.date("start_date", &mut errors);
    let end_date = o.date("end_date", &mut errors);
    let time_zone = o.time_zone("time_zone", &mut errors);
    let venue = parse_venue(&mut o, countries, &mut errors);
    let venue_given = venue.clone();
    let host_country = o.country("host_country", countries, &mut errors);
    let host_organisation_id = o.uuid("host_organisation_id", &mut errors);
    let source_url = o.url("source_url", 2000, &mut errors);
    let participants_public = o.boolean("participants_public", &mut errors);
    let protocol_host = o
        .one_of("protocol_host", ProtocolHost::ALL, &mut errors)
        .filter_map(ProtocolHost::parse);
    let nominations_close_at = o.instant("nominations_close_at", &mut errors);
    let quotas = parse_quotas(&mut o, &mut errors);
    let changes = match mode {
        Mode::Create => ConferenceChanges {
            title: o.required("title", title, &mut errors),
            theme: Some(theme.value()),
            status: Some(
                o.not_null("status", status, &mut errors)
                    .unwrap_or(ConferenceStatus::Draft),
            ),
            start_date: o.required("start_date", start_date, &mut errors),
            end_date: o.required("end_date", end_date, &mut errors),
            time_zone: o.required("time_zone", time_zone, &mut errors),
            venue: o.required("venue", venue_given, &mut errors),
            host_country: {
                // The host state defaults to the venue's country.
                let venue_country = match &venue {
                    Field::Value(v) => Some(v.country.clone()),
                    _ => None,
                };
                Some(
                    o.not_null("host_country", host_country, &mut errors)
                        .or(venue_country),
                )
            },
            host_organisation_id: Some(host_organisation_id.value()),
            source_url: Some(source_url.value()),
            participants_public: Some(
                o.not_null("participants_public", participants_public, &mut errors)
                    .unwrap_or(false),
            ),
            protocol_host: Some(
                o.not_null("protocol_host", protocol_host, &mut errors)
                    .unwrap_or(ProtocolHost::First),
            ),
            nominations_close_at: Some(nominations_close_at.value()),
            quotas: Some(quotas.value()),
        },
        Mode::Patch => ConferenceChanges {
            title: o.not_null("title", title, &mut errors),
            theme: theme.patch(),
            status: o.not_null("status", status, &mut errors),
            start_date: o.not_null("start_date", start_date, &mut errors),
            end_date: o.not_null("end_date", end_date, &mut errors),
            time_zone: o.not_null("time_zone", time_zone, &mut errors),
            venue: o.not_null("venue", venue, &mut errors),
            host_country: o
                .not_null("host_country", host_country, &mut errors)
                .map(Some),
            host_organisation_id: host_organisation_id.patch(),
            source_url: source_url.patch(),
            participants_public: o.not_null(
                "participants_public",
                participants_public,
                &mut errors,
            ),
            protocol_host: o.not_null("protocol_host", protocol_host, &mut errors),
            nominations_close_at: nominations_close_at.patch(),
            quotas: quotas.patch(),
        },
    };
    o.finish(&mut errors);
    if let (Some(start), Some(end)) = (changes.start_date, changes.end_date) {
        if end < start {
            errors.push("end_date", "must not be before start_date");
        }
    }
    errors.finish(changes)
}
