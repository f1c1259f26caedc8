//! Delegations (a country's or an organisation's participation in a conference) and their
//! members.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::country::CountryIndex;
use super::input::{join, Errors, Field, Invalid, Obj};
use super::organisation::{parse_organisation, OrganisationChanges};
use super::vocab::{
    CredentialsStatus, DelegationRole, DelegationStatus, Gender, MemberCategory, NominationStatus,
};
use super::Mode;

/// The most items a batch `POST` may carry.
pub const MAX_BATCH: usize = 200;
/// The largest delegation size accepted.
pub const MAX_SIZE: i64 = 100_000;

/// A delegation's name as lists, exports and badges show it: the state's UN English short
/// name, or the organisation's name followed by its acronym in brackets when it has one
/// (`"International Organization for Migration (IOM)"`).
pub fn display_name(name: &str, acronym: Option<&str>) -> String {
    match acronym {
        Some(a) if !a.is_empty() => format!("{name} ({a})"),
        _ => name.to_string(),
    }
}

/// The head of a delegation as stated by the organiser.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Head {
    /// Full name (required when a head is given).
    pub name: String,
    /// Title or rank, if any.
    pub title: Option<String>,
}

/// A delegation as returned by the API.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Delegation {
    /// UUID v7.
    pub id: Uuid,
    /// The conference.
    pub conference_id: Uuid,
    /// Alpha-2 of the state, or null for an organisation's delegation.
    pub country: Option<String>,
    /// The organisation, or null for a state's delegation.
    pub organisation_id: Option<Uuid>,
    /// The sending authority (e.g. a ministry), if stated.
    pub authority: Option<String>,
    /// `host`, `member`, `observer` or `guest`.
    pub role: DelegationRole,
    /// `invited` .. `withdrawn`.
    pub status: DelegationStatus,
    /// Head of delegation.
    pub head: Option<Head>,
    /// Number of delegates as stated, or null when unknown.
    pub size: Option<i32>,
    /// The state of its letter of credentials (read-only here; `.../credentials` changes it).
    pub credentials: CredentialsStatus,
    /// RFC 3339.
    pub created_at: DateTime<Utc>,
    /// RFC 3339.
    pub updated_at: DateTime<Utc>,
}

/// The fields a delegation `POST` or `PATCH` sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DelegationChanges {
    /// Country (alpha-2) or null.
    pub country: Option<Option<String>>,
    /// Organisation or null.
    pub organisation_id: Option<Option<Uuid>>,
    /// Authority or null.
    pub authority: Option<Option<String>>,
    /// Role.
    pub role: Option<DelegationRole>,
    /// Status.
    pub status: Option<DelegationStatus>,
    /// Head or null.
    pub head: Option<Option<Head>>,
    /// Size or null.
    pub size: Option<Option<i32>>,
    /// On create, an organisation named instead of its id (`"organisation": {"name",
    /// "acronym", "kind"}`): found by name in any letter case, or created, in the write's
    /// transaction.
    pub organisation: Option<OrganisationChanges>,
}

fn parse_head(o: &mut Obj<'_>, errors: &mut Errors) -> Field<Head> {
    let path = o.path("head");
    match o.raw("head") {
        Field::Value(v) => {
            let Some(mut ho) = Obj::new(v, &path, errors) else {
                return Field::Invalid;
            };
            let name = ho.string("name", 1, 300, errors);
            let title = ho.text("title", 300, errors).value();
            let name = ho.required("name", name, errors);
            ho.finish(errors);
            match name {
                Some(name) => Field::Value(Head { name, title }),
                None => Field::Invalid,
            }
        }
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Invalid => Field::Invalid,
    }
}

/// Reads one delegation object at `prefix` (`""` or `items[3]`). On create, exactly one of
/// `country` and `organisation_id` must be given.
pub fn parse_delegation(
    body: &Value,
    prefix: &str,
    countries: &CountryIndex,
    mode: Mode,
    errors: &mut Errors,
) -> DelegationChanges {
    let Some(mut o) = Obj::new(body, prefix, errors) else {
        return DelegationChanges::default();
    };
    let country = o.country("country", countries, errors);
    let organisation_id = o.uuid("organisation_id", errors);
    let organisation = match (mode, o.raw("organisation")) {
        (Mode::Create, Field::Value(v)) => Some(parse_organisation(
            v,
            &o.path("organisation"),
            countries,
            Mode::Create,
            errors,
        )),
        (Mode::Patch, Field::Value(_)) => {
            errors.push(o.path("organisation"), "give organisation_id to change it");
            None
        }
        (_, Field::Null) => {
            errors.push(o.path("organisation"), "must be an object");
            None
        }
        _ => None,
    };
    let authority = o.text("authority", 300, errors);
    let role = o
        .one_of("role", DelegationRole::ALL, errors)
        .filter_map(DelegationRole::parse);
    let status = o
        .one_of("status", DelegationStatus::ALL, errors)
        .filter_map(DelegationStatus::parse);
    let head = parse_head(&mut o, errors);
    let size = o.integer("size", 0, MAX_SIZE, errors);
    let changes = match mode {
        Mode::Create => {
            let given = |f: &Field<_>| matches!(f, Field::Value(_) | Field::Invalid);
            let given_org = matches!(organisation_id, Field::Value(_) | Field::Invalid);
            let named_org = organisation.is_some();
            match (given(&country), given_org, named_org) {
                (false, false, false) => errors.push(
                    o.path("country"),
                    "one of country, organisation_id and organisation is required",
                ),
                (true, false, false) | (false, true, false) | (false, false, true) => {}
                (_, _, true) => errors.push(
                    o.path("organisation"),
                    "give one of country, organisation_id and organisation",
                ),
                _ => errors.push(
                    o.path("organisation_id"),
                    "give either country or organisation_id, not both",
                ),
            }
            DelegationChanges {
                country: Some(country.value()),
                organisation_id: Some(organisation_id.value()),
                authority: Some(authority.value()),
                role: Some(
                    o.not_null("role", role, errors)
                        .unwrap_or(DelegationRole::Member),
                ),
                status: Some(
                    o.not_null("status", status, errors)
                        .unwrap_or(DelegationStatus::Registered),
                ),
                head: Some(head.value()),
                size: Some(size.value()),
                organisation,
            }
        }
        Mode::Patch => DelegationChanges {
            country: country.patch(),
            organisation_id: organisation_id.patch(),
            authority: authority.patch(),
            role: o.not_null("role", role, errors),
            status: o.not_null("status", status, errors),
            head: head.patch(),
            size: size.patch(),
            organisation: None,
        },
    };
    o.finish(errors);
    changes
}

/// A delegation `POST` body: one delegation, or `{"items": [...]}` (1..200) for a batch.
#[derive(Debug)]
pub enum DelegationPost {
    /// One delegation.
    Single(Box<DelegationChanges>),
    /// A batch, stored all or nothing.
    Batch(Vec<DelegationChanges>),
}

/// Reads a delegation `POST` body. Errors: 422 naming every invalid field; batch fields are
/// named with their 0-based index (`items[3].country`).
pub fn parse_delegation_post(
    body: &Value,
    countries: &CountryIndex,
) -> Result<DelegationPost, Invalid> {
    let mut errors = Errors::new();
    if let Some(items) = body.as_object().and_then(|m| m.get("items")) {
        if let Some(map) = body.as_object() {
            for key in map.keys().filter(|k| *k != "items") {
                errors.push(key.clone(), "unknown field");
            }
        }
        let Some(list) = items.as_array() else {
            errors.push("items", "must be an array");
            return errors.finish(DelegationPost::Batch(Vec::new()));
        };
        if list.is_empty() || list.len() > MAX_BATCH {
            errors.push("items", format!("must have 1 to {MAX_BATCH} items"));
            return errors.finish(DelegationPost::Batch(Vec::new()));
        }
        let parsed: Vec<DelegationChanges> = list
            .iter()
            .enumerate()
            .map(|(i, item)| {
                parse_delegation(
                    item,
                    &join("", &format!("items[{i}]")),
                    countries,
                    Mode::Create,
                    &mut errors,
                )
            })
            .collect();
        // Duplicates inside the batch are refused before the database sees them.
        for (i, a) in parsed.iter().enumerate() {
            let named = |c: &DelegationChanges| {
                c.organisation
                    .as_ref()
                    .and_then(|o| o.name.as_ref())
                    .map(|n| n.to_lowercase())
            };
            let dup = parsed[..i].iter().position(|b| {
                (a.country.clone().flatten().is_some() && a.country == b.country)
                    || (a.organisation_id.flatten().is_some()
                        && a.organisation_id == b.organisation_id)
                    || (named(a).is_some() && named(a) == named(b))
            });
            if let Some(j) = dup {
                let field = if a.country.clone().flatten().is_some() {
                    "country"
                } else if named(a).is_some() {
                    "organisation.name"
                } else {
                    "organisation_id"
                };
                errors.push(
                    format!("items[{i}].{field}"),
                    format!("duplicates items[{j}]"),
                );
            }
        }
        return errors.finish(DelegationPost::Batch(parsed));
    }
    let one = parse_delegation(body, "", countries, Mode::Create, &mut errors);
    errors.finish(DelegationPost::Single(Box::new(one)))
}

/// The longest `family_name` and `native_name`.
pub const MAX_NAME_PART: usize = 200;
/// The longest `honorific`.
pub const MAX_HONORIFIC: usize = 40;
/// The longest `nomination_note`.
pub const MAX_NOMINATION_NOTE: usize = 2000;

/// A member of a delegation. Visible to the conference's organisers and the delegation's
/// focal points only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Member {
    /// UUID v7.
    pub id: Uuid,
    /// The name in Latin script.
    pub full_name: String,
    /// The part of the name a list sorts and capitalises by, if given.
    pub family_name: Option<String>,
    /// The name in the person's own script (`"张伟"`), if given.
    pub native_name: Option<String>,
    /// A form of address (`"H.E."`, `"Dr."`), if any.
    pub honorific: Option<String>,
    /// Title (`"H.E."`, `"Dr"`), if any.
    pub title: Option<String>,
    /// Position (`"Director-General"`), if any.
    pub position: Option<String>,
    /// Representative, alternate, adviser, expert, observer or support.
    pub category: MemberCategory,
    /// Whether this member heads the delegation (at most one does).
    pub is_head: bool,
    /// Email address, if known.
    pub email: Option<String>,
    /// Gender, if stated.
    pub gender: Option<Gender>,
    /// Nominated, accepted or rejected (set by organisers only).
    pub nomination_status: NominationStatus,
    /// The organisers' note on the nomination, if any.
    pub nomination_note: Option<String>,
}

/// The fields a member `POST` or `PATCH` sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChanges {
    /// Full name.
    pub full_name: Option<String>,
    /// Family name or null.
    pub family_name: Option<Option<String>>,
    /// Native-script name or null.
    pub native_name: Option<Option<String>>,
    /// Honorific or null.
    pub honorific: Option<Option<String>>,
    /// Title or null.
    pub title: Option<Option<String>>,
    /// Position or null.
    pub position: Option<Option<String>>,
    /// Category (a `POST` without one: representative).
    pub category: Option<MemberCategory>,
    /// Head of delegation.
    pub is_head: Option<bool>,
    /// Email or null.
    pub email: Option<Option<String>>,
    /// Gender or null.
    pub gender: Option<Option<Gender>>,
    /// Nomination status; on a `POST` without one the store decides (nominated for a focal
    /// point, accepted for an organiser).
    pub nomination_status: Option<NominationStatus>,
    /// Nomination note or null.
    pub nomination_note: Option<Option<String>>,
}

/// Reads a member body. Errors: 422 listing every invalid or unknown field. Who may send
/// `nomination_status` and `nomination_note` is [`crate::access::member_fields`].
pub fn parse_member(body: &Value, mode: Mode) -> Result<MemberChanges, Invalid> {
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(MemberChanges::default());
    };
    let full_name = o.string("full_name", 1, 300, &mut errors);
    let family_name = o.text("family_name", MAX_NAME_PART, &mut errors);
    let native_name = o.text("native_name", MAX_NAME_PART, &mut errors);
    let honorific = o.text("honorific", MAX_HONORIFIC, &mut errors);
    let title = o.text("title", 300, &mut errors);
    let position = o.text("position", 300, &mut errors);
    let category = o
        .one_of("category", MemberCategory::ALL, &mut errors)
        .filter_map(MemberCategory::parse);
    let is_head = o.boolean("is_head", &mut errors);
    let email = o.email("email", &mut errors);
    let gender = o
        .one_of("gender", Gender::ALL, &mut errors)
        .filter_map(Gender::parse);
    let nomination_status = o
        .one_of("nomination_status", NominationStatus::ALL, &mut errors)
        .filter_map(NominationStatus::parse);
    let nomination_note = o.paragraphs("nomination_note", MAX_NOMINATION_NOTE, &mut errors);
    let changes = match mode {
        Mode::Create => MemberChanges {
            full_name: o.required("full_name", full_name, &mut errors),
            family_name: Some(family_name.value()),
            native_name: Some(native_name.value()),
            honorific: Some(honorific.value()),
            title: Some(title.value()),
            position: Some(position.value()),
            category: Some(
                o.not_null("category", category, &mut errors)
                    .unwrap_or(MemberCategory::Representative),
            ),
            is_head: Some(o.not_null("is_head", is_head, &mut errors).unwrap_or(false)),
            email: Some(email.value()),
            gender: Some(gender.value()),
            nomination_status: o.not_null("nomination_status", nomination_status, &mut errors),
            nomination_note: Some(nomination_note.value()),
        },
        Mode::Patch => MemberChanges {
            full_name: o.not_null("full_name", full_name, &mut errors),
            family_name: family_name.patch(),
            native_name: native_name.patch(),
            honorific: honorific.patch(),
            title: title.patch(),
            position: position.patch(),
            category: o.not_null("category", category, &mut errors),
            is_head: o.not_null("is_head", is_head, &mut errors),
            email: email.patch(),
            gender: gender.patch(),
            nomination_status: o.not_null("nomination_status", nomination_status, &mut errors),
            nomination_note: nomination_note.patch(),
        },
    };
    o.finish(&mut errors);
    errors.finish(changes)
}

/// The most members one `POST .../members` may carry (`{"items": [...]}` or the data rows of a
/// spreadsheet).
pub const MAX_MEMBER_BATCH: usize = 500;

/// A member `POST` body: one member, or `{"items": [...]}` (1..[`MAX_MEMBER_BATCH`]).
#[derive(Debug, Clone)]
pub enum MemberPost {
    /// One member.
    Single(Box<MemberChanges>),
    /// A batch, stored all or nothing, with the name of each item for errors (`items[3]`,
    /// `row 17`) in the same order.
    Batch(Vec<(String, MemberChanges)>),
}

impl MemberPost {
    /// The members to store, in order, each with its name for errors (a single member's
    /// name is empty).
    pub fn into_items(self) -> Vec<(String, MemberChanges)> {
        match self {
            MemberPost::Single(one) => vec![(String::new(), *one)],
            MemberPost::Batch(items) => items,
        }
    }
}

/// Reads one item of a batch with [`parse_member`] (the one parser of a member), naming its
/// errors after the item: `items[3].full_name` for `prefix` `items[3]` and `sep` `.`, `row 17,
/// full_name` for `row 17` and `, `. `rename` gives the name the sender used for a field (a
/// spreadsheet's column header).
pub fn parse_member_item(
    body: &Value,
    prefix: &str,
    sep: &str,
    rename: impl Fn(&str) -> String,
    errors: &mut Errors,
) -> MemberChanges {
    match parse_member(body, Mode::Create) {
        Ok(changes) => changes,
        Err(Invalid(fields)) => {
            for f in fields {
                if f.field == "body" {
                    errors.push(prefix, f.message);
                } else {
                    errors.push(format!("{prefix}{sep}{}", rename(&f.field)), f.message);
                }
            }
            MemberChanges::default()
        }
    }
}

/// Reads a member `POST` body: one member ([`parse_member`]) or `{"items": [...]}`. Errors: 422
/// naming every invalid field; batch fields are named with their 0-based index
/// (`items[3].full_name`).
pub fn parse_member_post(body: &Value) -> Result<MemberPost, Invalid> {
    let Some(items) = body.as_object().and_then(|m| m.get("items")) else {
        return parse_member(body, Mode::Create).map(|c| MemberPost::Single(Box::new(c)));
    };
    let mut errors = Errors::new();
    if let Some(map) = body.as_object() {
        for key in map.keys().filter(|k| *k != "items") {
            errors.push(key.clone(), "unknown field");
        }
    }
    let Some(list) = items.as_array() else {
        errors.push("items", "must be an array");
        return errors.finish(MemberPost::Batch(Vec::new()));
    };
    if list.is_empty() || list.len() > MAX_MEMBER_BATCH {
        errors.push("items", format!("must have 1 to {MAX_MEMBER_BATCH} items"));
        return errors.finish(MemberPost::Batch(Vec::new()));
    }
    let parsed = list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = format!("items[{i}]");
            let changes = parse_member_item(item, &name, ".", str::to_string, &mut errors);
            (name, changes)
        })
        .collect();
    errors.finish(MemberPost::Batch(parsed))
}
