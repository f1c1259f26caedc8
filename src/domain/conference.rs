//! Conferences: a meeting with dates, a venue, an IANA time zone and a host.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::country::CountryIndex;
use super::input::{Errors, Field, Obj};
use super::vocab::ConferenceStatus;
use super::Mode;
use crate::error::ApiError;

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

/// Reads a conference body. Errors: 422 listing every invalid or unknown field.
pub fn parse_conference(
    body: &Value,
    countries: &CountryIndex,
    mode: Mode,
) -> Result<ConferenceChanges, ApiError> {
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
