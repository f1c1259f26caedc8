//! Organisations (intergovernmental bodies, government agencies, NGOs) that send delegations.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::country::CountryIndex;
use super::input::{Errors, Invalid, Obj};
use super::{Mode, ORGANISATION_KINDS};

/// An organisation as returned by the API.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Organisation {
    /// UUID v7.
    pub id: Uuid,
    /// Full name (NFC, without zero-width characters), unique regardless of letter case and of
    /// look-alike characters (its TR39 confusable skeleton is unique, see
    /// [`name_skeleton`]).
    pub name: String,
    /// Acronym (`"IOM"`), if any.
    pub acronym: Option<String>,
    /// One of [`ORGANISATION_KINDS`].
    pub kind: String,
    /// ISO 3166-1 alpha-2 of its seat or parent state, if any.
    pub country: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    pub updated_at: DateTime<Utc>,
}

/// The fields a `POST` or `PATCH` sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganisationChanges {
    /// New name (1..300 characters).
    pub name: Option<String>,
    /// New acronym or null (1..50 characters).
    pub acronym: Option<Option<String>>,
    /// New kind.
    pub kind: Option<&'static str>,
    /// New country (alpha-2) or null.
    pub country: Option<Option<String>>,
    /// New website or null.
    pub website: Option<Option<String>>,
}

/// Reads an organisation body. Errors: 422 listing every invalid or unknown field under
/// `prefix` (`""` for a whole body).
pub fn parse_organisation(
    body: &Value,
    prefix: &str,
    countries: &CountryIndex,
    mode: Mode,
    errors: &mut Errors,
) -> OrganisationChanges {
    let Some(mut o) = Obj::new(body, prefix, errors) else {
        return OrganisationChanges::default();
    };
    let name = o.name("name", 1, 300, errors);
    let acronym = o.text("acronym", 50, errors);
    let kind = o.one_of("kind", ORGANISATION_KINDS, errors);
    let country = o.country("country", countries, errors);
    let website = o.url("website", 2000, errors);
    let changes = match mode {
        Mode::Create => OrganisationChanges {
            name: o.required("name", name, errors),
            kind: o.required("kind", kind, errors),
            acronym: Some(acronym.value()),
            country: Some(country.value()),
            website: Some(website.value()),
        },
        Mode::Patch => OrganisationChanges {
            name: o.not_null("name", name, errors),
            kind: o.not_null("kind", kind, errors),
            acronym: acronym.patch(),
            country: country.patch(),
            website: website.patch(),
        },
    };
    o.finish(errors);
    changes
}

/// [`parse_organisation`] for a whole request body.
pub fn parse_organisation_body(
    body: &Value,
    countries: &CountryIndex,
    mode: Mode,
) -> Result<OrganisationChanges, Invalid> {
    let mut errors = Errors::new();
    let changes = parse_organisation(body, "", countries, mode, &mut errors);
    errors.finish(changes)
}

/// The key under which organisation names are unique: the Unicode TR39 confusable skeleton
/// (`unicode-security`) of the name in lower case with runs of white space made one space, so
/// that names a reader cannot tell apart collide: letter case (`"ZEBRA"`), look-alike letters
/// of other scripts (`"Zebr\u{430}"`, Cyrillic а), zero-width and other default-ignorable
/// characters, decomposed accents. Stored in `organisations.name_skeleton` (unique index).
pub fn name_skeleton(name: &str) -> String {
    let lower = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    unicode_security::skeleton(&lower).collect()
}

#[cfg(test)]
mod tests {
    use super::name_skeleton;

    #[test]
    fn look_alike_names_share_a_skeleton() {
        let plain = name_skeleton("Zebra Secret Org");
        assert_eq!(name_skeleton("Zebr\u{430} Secret Org"), plain);
        assert_eq!(name_skeleton("Zeb\u{200B}ra Secret Org"), plain);
        assert_eq!(name_skeleton("ZEBRA  secret org"), plain);
        assert_eq!(name_skeleton("Cafe\u{301}"), name_skeleton("Caf\u{e9}"));
        assert_ne!(name_skeleton("Zebra Public Org"), plain);
    }
}
