//! Conference documents (`data/*.json`): a conference with its organisations, delegations,
//! members and sessions, loaded through the same validation as the API, all or nothing.
//!
//! Shape (`"format": "plenary-conference/1"`):
//! ```json
//! {"format": "plenary-conference/1",
//!  "id": "<uuid: the conference's stable id>",
//!  "organisations": [{"name", "acronym", "kind", "country", "website"}],
//!  "conference": {<a conference POST body>, "host_organisation": "<organisation name>"},
//!  "delegations": [{<a delegation POST body>, "organisation": "<name>" instead of
//!                   organisation_id, "members": [<member POST bodies>]}],
//!  "sessions": [{<a session POST body without delegation_ids>,
//!                "delegations": ["<country or organisation name>"]}]}
//! ```
//! Re-importing an identical document changes nothing (its SHA-256 is recorded). A changed
//! document updates the conference and organisations and replaces its delegations and
//! sessions.

use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::conference::{parse_conference, ConferenceChanges};
use crate::domain::country::CountryIndex;
use crate::domain::delegation::{parse_delegation, parse_member, MemberChanges};
use crate::domain::input::{Errors, FieldError, Invalid};
use crate::domain::organisation::parse_organisation;
use crate::domain::session::parse_session;
use crate::domain::Mode;
use crate::store::documents::{
    self, Connection, DelegationInput, Document, PartyName, SessionInput,
};
use crate::store::organisations::OrganisationRow;
use crate::store::StoreError;

pub use crate::store::documents::Outcome;

/// The format tag of a conference document.
pub const FORMAT: &str = "plenary-conference/1";

/// The top-level fields of a document.
const FIELDS: [&str; 6] = [
    "format",
    "id",
    "organisations",
    "conference",
    "delegations",
    "sessions",
];

/// Imports one document from `path`, all or nothing.
pub async fn import_file(
    conn: &mut Connection,
    countries: &CountryIndex,
    path: &Path,
    owner: Option<Uuid>,
) -> anyhow::Result<Outcome> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let source = path.display().to_string();
    import_document(conn, countries, &doc, &source, owner)
        .await
        .with_context(|| format!("importing {}", path.display()))
}

/// Imports a parsed document (see the module documentation for its shape), recording
/// `source` and making `owner` the owner of a new conference.
///
/// Errors: `invalid conference document:` with one `field: message` line per problem (every
/// invalid field of the document at once, else the first name that resolves to nothing);
/// database errors.
pub async fn import_document(
    conn: &mut Connection,
    countries: &CountryIndex,
    doc: &Value,
    source: &str,
    owner: Option<Uuid>,
) -> anyhow::Result<Outcome> {
    let document = read_document(doc, countries)?;
    documents::save(conn, document, source, owner)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(list) => invalid(&list),
            other => anyhow::anyhow!("{other}"),
        })
}

/// Reads and checks a whole document, collecting the field errors of every part in document
/// order, and computes its SHA-256.
fn read_document(doc: &Value, countries: &CountryIndex) -> anyhow::Result<Document> {
    let mut errors = Errors::new();
    let id = read_header(doc, &mut errors);
    let organisations = read_organisations(doc, countries, &mut errors);
    let conference = read_conference(doc, countries, &mut errors);
    let delegations = read_delegations(doc, countries, &mut errors);
    let sessions = read_sessions(doc, countries, &mut errors);
    errors.check().map_err(|Invalid(list)| invalid(&list))?;
    let (Some(id), (Some(conference), host_organisation)) = (id, conference) else {
        anyhow::bail!("invalid conference document");
    };
    Ok(Document {
        id,
        sha256: hex::encode(Sha256::digest(serde_json::to_vec(doc)?)),
        organisations,
        conference,
        host_organisation,
        delegations,
        sessions,
    })
}

/// Checks the format tag and the top-level field names; returns the document's id (`None`
/// when it is not a UUID, recorded in `errors`).
fn read_header(doc: &Value, errors: &mut Errors) -> Option<Uuid> {
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        errors.push("format", format!("must be {FORMAT:?}"));
    }
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    if id.is_none() {
        errors.push("id", "must be a UUID");
    }
    if let Some(map) = doc.as_object() {
        for key in map.keys() {
            if !FIELDS.contains(&key.as_str()) {
                errors.push(key.clone(), "unknown field");
            }
        }
    }
    id
}

/// The organisations, each validated like `POST /organisations`.
fn read_organisations(
    doc: &Value,
    countries: &CountryIndex,
    errors: &mut Errors,
) -> Vec<OrganisationRow> {
    let mut orgs = Vec::new();
    for (i, o) in take_array(doc, "organisations", errors).iter().enumerate() {
        let changes = parse_organisation(
            o,
            &format!("organisations[{i}]"),
            countries,
            Mode::Create,
            errors,
        );
        orgs.push(OrganisationRow::new(changes));
    }
    orgs
}

/// The conference, validated like `POST /conferences`, and the name of its host
/// organisation. The conference is `None` when invalid (field errors go to `errors`).
fn read_conference(
    doc: &Value,
    countries: &CountryIndex,
    errors: &mut Errors,
) -> (Option<ConferenceChanges>, Option<String>) {
    let mut conf = take_object(doc, "conference", errors);
    let host_org = conf.remove("host_organisation");
    let conference = nest(
        parse_conference(&Value::Object(conf), countries, Mode::Create),
        "conference",
        errors,
    );
    let host_org_name = match host_org {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(
                "conference.host_organisation",
                "must be an organisation name",
            );
            None
        }
    };
    (conference, host_org_name)
}

/// The delegations with their members. A delegation names its organisation (of the
/// document or the database) by `"organisation"`; it is then read as a `PATCH`, since
/// `organisation_id` is missing.
fn read_delegations(
    doc: &Value,
    countries: &CountryIndex,
    errors: &mut Errors,
) -> Vec<DelegationInput> {
    let mut inputs = Vec::new();
    for (i, d) in take_array(doc, "delegations", errors).iter().enumerate() {
        let mut map = d.as_object().cloned().unwrap_or_default();
        let org_name = map.remove("organisation");
        let members = map.remove("members");
        let prefix = format!("delegations[{i}]");
        let changes = parse_delegation(
            &Value::Object(map),
            &prefix,
            countries,
            if org_name.is_some() {
                Mode::Patch
            } else {
                Mode::Create
            },
            errors,
        );
        let members = read_members(members.as_ref(), &prefix, errors);
        let organisation = match org_name {
            Some(Value::String(s)) => Some(s),
            None => None,
            Some(_) => {
                errors.push(
                    format!("{prefix}.organisation"),
                    "must be an organisation name",
                );
                None
            }
        };
        inputs.push(DelegationInput {
            changes,
            organisation,
            members,
        });
    }
    inputs
}

/// The members of the delegation at `prefix`, each validated like a member `POST`; the
/// valid ones (anything but an array is no members).
fn read_members(members: Option<&Value>, prefix: &str, errors: &mut Errors) -> Vec<MemberChanges> {
    let mut valid = Vec::new();
    if let Some(Value::Array(list)) = members {
        for (j, m) in list.iter().enumerate() {
            let member = parse_member(m, Mode::Create);
            valid.extend(nest(member, &format!("{prefix}.members[{j}]"), errors));
        }
    }
    valid
}

/// The valid sessions, each validated like a session `POST`, with the delegations it
/// names (by country or organisation; names that are not strings are ignored).
fn read_sessions(doc: &Value, countries: &CountryIndex, errors: &mut Errors) -> Vec<SessionInput> {
    let mut inputs = Vec::new();
    for (i, s) in take_array(doc, "sessions", errors).iter().enumerate() {
        let mut map = s.as_object().cloned().unwrap_or_default();
        let delegations: Vec<PartyName> = match map.remove("delegations") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|name| party_name(name, countries))
                .collect(),
            _ => Vec::new(),
        };
        let changes = nest(
            parse_session(&Value::Object(map), Mode::Create),
            &format!("sessions[{i}]"),
            errors,
        );
        if let Some(changes) = changes {
            inputs.push(SessionInput {
                changes,
                delegations,
            });
        }
    }
    inputs
}

/// A session's delegation name with its lookup key: the lower-case country code when `name`
/// is a country, else `name` in lower case.
fn party_name(name: &str, countries: &CountryIndex) -> PartyName {
    let key = countries
        .resolve(name)
        .map(str::to_lowercase)
        .unwrap_or_else(|| name.to_lowercase());
    PartyName {
        name: name.to_string(),
        key,
    }
}

/// A parser's value, or `None` with its field errors moved to `errors` under `prefix`
/// (`prefix.field`).
fn nest<T>(parsed: Result<T, Invalid>, prefix: &str, errors: &mut Errors) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(Invalid(list)) => {
            for f in list {
                errors.push(format!("{prefix}.{}", f.field), f.message);
            }
            None
        }
    }
}

/// The object `field` of `v`, or an empty one (recorded in `errors` as not an object).
fn take_object(v: &Value, field: &str, errors: &mut Errors) -> Map<String, Value> {
    match v.get(field) {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            errors.push(field, "must be an object");
            Map::new()
        }
    }
}

/// The array `field` of `v`: empty when missing or `null`, and when not an array (recorded
/// in `errors`).
fn take_array<'a>(v: &'a Value, field: &str, errors: &mut Errors) -> &'a [Value] {
    match v.get(field) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => {
            errors.push(field, "must be an array");
            &[]
        }
    }
}

/// "invalid conference document:" and one line per invalid field.
fn invalid(list: &[FieldError]) -> anyhow::Error {
    let lines: Vec<String> = list
        .iter()
        .map(|f| format!("  {}: {}", f.field, f.message))
        .collect();
    anyhow::anyhow!("invalid conference document:\n{}", lines.join("\n"))
}

/// Every `*.json` file of `dir`, sorted by name.
pub fn documents_in(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}
