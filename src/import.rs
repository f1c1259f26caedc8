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

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::schema::{conference_imports, conferences, delegations, sessions};
use crate::domain::conference::parse_conference;
use crate::domain::country::CountryIndex;
use crate::domain::delegation::{parse_delegation, parse_member};
use crate::domain::input::Errors;
use crate::domain::organisation::parse_organisation;
use crate::domain::session::parse_session;
use crate::domain::Mode;
use crate::error::ApiError;
use crate::store::conferences::ConferenceRow;
use crate::store::delegations::DelegationRow;
use crate::store::organisations::{self, OrganisationRow};
use crate::store::{self, StoreError, TxError};

/// The format tag of a conference document.
pub const FORMAT: &str = "plenary-conference/1";

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new conference was created.
    Created {
        /// Conference id.
        id: Uuid,
        /// Delegations stored.
        delegations: usize,
    },
    /// An existing conference was replaced by a changed document.
    Updated {
        /// Conference id.
        id: Uuid,
        /// Delegations stored.
        delegations: usize,
    },
    /// The same document was imported before: nothing changed.
    Unchanged {
        /// Conference id.
        id: Uuid,
    },
}

fn take_object(v: &Value, field: &str, errors: &mut Errors) -> Map<String, Value> {
    match v.get(field) {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            errors.push(field, "must be an object");
            Map::new()
        }
    }
}

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

fn errors_to_anyhow(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Validation(list) => {
            let lines: Vec<String> = list
                .iter()
                .map(|f| format!("  {}: {}", f.field, f.message))
                .collect();
            anyhow::anyhow!("invalid conference document:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// Imports one document from `path`, all or nothing.
pub async fn import_file(
    conn: &mut AsyncPgConnection,
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

/// Imports a parsed document (see the module documentation for its shape).
pub async fn import_document(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    doc: &Value,
    source: &str,
    owner: Option<Uuid>,
) -> anyhow::Result<Outcome> {
    let mut errors = Errors::new();
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
            if ![
                "format",
                "id",
                "organisations",
                "conference",
                "delegations",
                "sessions",
            ]
            .contains(&key.as_str())
            {
                errors.push(key.clone(), "unknown field");
            }
        }
    }
    // Organisations, validated like POST /organisations.
    let mut orgs = Vec::new();
    for (i, o) in take_array(doc, "organisations", &mut errors)
        .iter()
        .enumerate()
    {
        let changes = parse_organisation(
            o,
            &format!("organisations[{i}]"),
            countries,
            Mode::Create,
            &mut errors,
        );
        orgs.push(OrganisationRow::new(changes));
    }
    // The conference, validated like POST /conferences.
    let mut conf = take_object(doc, "conference", &mut errors);
    let host_org = conf.remove("host_organisation");
    let conference = parse_conference(&Value::Object(conf), countries, Mode::Create);
    let conference = match conference {
        Ok(c) => Some(c),
        Err(ApiError::Validation(list)) => {
            for f in list {
                errors.push(format!("conference.{}", f.field), f.message);
            }
            None
        }
        Err(other) => return Err(errors_to_anyhow(other)),
    };
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
    // Delegations: "organisation" names an organisation of the document or of the database.
    let mut delegation_inputs = Vec::new();
    for (i, d) in take_array(doc, "delegations", &mut errors)
        .iter()
        .enumerate()
    {
        let mut map = d.as_object().cloned().unwrap_or_default();
        let org_name = map.remove("organisation");
        let members = map.remove("members");
        let prefix = format!("delegations[{i}]");
        let changes = parse_delegation(
            &Value::Object(map.clone()),
            &prefix,
            countries,
            if org_name.is_some() {
                Mode::Patch
            } else {
                Mode::Create
            },
            &mut errors,
        );
        let mut member_changes = Vec::new();
        if let Some(Value::Array(list)) = &members {
            for (j, m) in list.iter().enumerate() {
                match parse_member(m, Mode::Create) {
                    Ok(c) => member_changes.push(c),
                    Err(ApiError::Validation(list)) => {
                        for f in list {
                            errors.push(format!("{prefix}.members[{j}].{}", f.field), f.message);
                        }
                    }
                    Err(other) => return Err(errors_to_anyhow(other)),
                }
            }
        }
        let org_name = match org_name {
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
        delegation_inputs.push((changes, org_name, member_changes));
    }
    let mut session_inputs = Vec::new();
    for (i, s) in take_array(doc, "sessions", &mut errors).iter().enumerate() {
        let mut map = s.as_object().cloned().unwrap_or_default();
        let refs: Vec<String> = match map.remove("delegations") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        match parse_session(&Value::Object(map), Mode::Create) {
            Ok(c) => session_inputs.push((c, refs)),
            Err(ApiError::Validation(list)) => {
                for f in list {
                    errors.push(format!("sessions[{i}].{}", f.field), f.message);
                }
            }
            Err(other) => return Err(errors_to_anyhow(other)),
        }
    }
    errors.check().map_err(errors_to_anyhow)?;
    let (Some(id), Some(conference)) = (id, conference) else {
        anyhow::bail!("invalid conference document");
    };
    let digest = hex::encode(Sha256::digest(serde_json::to_vec(doc)?));
    let source = source.to_string();
    let countries = countries.clone();

    let scope = store::write::Scope::outside(None, store::write::UNCONDITIONAL);
    let outcome = store::write::run(conn, scope, async |tx| {
        let conn = &mut *tx.conn;
        let (source, countries) = (&source, &countries);
        let (orgs, conference) = (orgs.clone(), conference.clone());
        let (delegation_inputs, session_inputs) =
            (delegation_inputs.clone(), session_inputs.clone());
        let previous: Option<String> = conference_imports::table
            .find(id)
            .select(conference_imports::digest)
            .first(conn)
            .await
            .optional()?;
        if previous.as_deref() == Some(digest.as_str()) {
            return Ok(Outcome::Unchanged { id });
        }
        // Organisations: found by name regardless of case, else created.
        let mut org_ids: HashMap<String, Uuid> = HashMap::new();
        for row in orgs {
            let saved = match organisations::find_by_name(conn, &row.name).await? {
                Some(existing) => existing,
                None => organisations::insert(conn, &row).await?,
            };
            org_ids.insert(row.name.to_lowercase(), saved.id);
            if let Some(acronym) = &saved.acronym {
                org_ids.insert(acronym.to_lowercase(), saved.id);
            }
        }
        let mut row = ConferenceRow::new(conference, owner);
        row.id = id;
        if let Some(name) = &host_org_name {
            row.host_organisation_id = Some(
                lookup_org(conn, &org_ids, name, "conference.host_organisation".into()).await?,
            );
        }
        let existed = diesel::select(diesel::dsl::exists(conferences::table.find(id)))
            .get_result::<bool>(conn)
            .await?;
        if existed {
            let created_at: chrono::DateTime<chrono::Utc> = conferences::table
                .find(id)
                .select(conferences::created_at)
                .first(conn)
                .await?;
            row.created_at = created_at;
            diesel::update(conferences::table.find(id))
                .set(&row)
                .execute(conn)
                .await?;
            diesel::delete(sessions::table.filter(sessions::conference_id.eq(id)))
                .execute(conn)
                .await?;
            diesel::delete(delegations::table.filter(delegations::conference_id.eq(id)))
                .execute(conn)
                .await?;
        } else {
            store::conferences::create(conn, None, row.clone(), owner).await?;
        }
        // Delegations and their members.
        let mut party_ids: HashMap<String, Uuid> = HashMap::new();
        let mut rows = Vec::new();
        let mut members = Vec::new();
        for (i, (mut changes, org_name, member_changes)) in
            delegation_inputs.into_iter().enumerate()
        {
            if let Some(name) = org_name {
                if changes.country.clone().flatten().is_some() {
                    return Err(StoreError::field(
                        format!("delegations[{i}].organisation"),
                        "give either country or organisation, not both",
                    ));
                }
                let org = lookup_org(
                    conn,
                    &org_ids,
                    &name,
                    format!("delegations[{i}].organisation"),
                )
                .await?;
                changes.organisation_id = Some(Some(org));
            }
            let d = DelegationRow::new(id, changes);
            members.push((d.id, member_changes));
            rows.push(d);
        }
        let count = rows.len();
        let saved = store::delegations::insert_all(conn, None, rows, true).await?;
        for d in &saved {
            if let Some(c) = &d.country {
                party_ids.insert(c.to_lowercase(), d.id);
            }
            if let Some(o) = d.organisation_id {
                for (name, oid) in &org_ids {
                    if *oid == o {
                        party_ids.insert(name.clone(), d.id);
                    }
                }
            }
        }
        for (delegation_id, list) in members {
            for m in list {
                store::members::create(conn, None, id, delegation_id, m).await?;
            }
        }
        // Sessions, with delegations named by country or organisation.
        for (i, (mut changes, refs)) in session_inputs.into_iter().enumerate() {
            let mut ids = Vec::new();
            for r in refs {
                let key = countries
                    .resolve(&r)
                    .map(str::to_lowercase)
                    .unwrap_or_else(|| r.to_lowercase());
                match party_ids.get(&key) {
                    Some(d) => ids.push(*d),
                    _ => {
                        return Err(StoreError::field(
                            format!("sessions[{i}].delegations"),
                            format!("no delegation of {r:?}"),
                        ))
                    }
                }
            }
            changes.delegation_ids = Some(ids);
            store::sessions::create(conn, None, &row, changes).await?;
        }
        diesel::insert_into(conference_imports::table)
            .values((
                conference_imports::conference_id.eq(id),
                conference_imports::digest.eq(&digest),
                conference_imports::source.eq(&source),
            ))
            .on_conflict(conference_imports::conference_id)
            .do_update()
            .set((
                conference_imports::digest.eq(&digest),
                conference_imports::source.eq(&source),
                conference_imports::imported_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(if existed {
            Outcome::Updated {
                id,
                delegations: count,
            }
        } else {
            Outcome::Created {
                id,
                delegations: count,
            }
        })
    })
    .await
    .map_err(|e| errors_to_anyhow(e.into()))?;
    Ok(outcome)
}

/// The organisation named `name` (or with that acronym) in the document or the database.
async fn lookup_org(
    conn: &mut AsyncPgConnection,
    org_ids: &HashMap<String, Uuid>,
    name: &str,
    field: String,
) -> Result<Uuid, TxError> {
    if let Some(id) = org_ids.get(&name.to_lowercase()) {
        return Ok(*id);
    }
    match organisations::find_by_name(conn, name).await? {
        Some(o) => Ok(o.id),
        None => Err(StoreError::field(
            field,
            format!("no organisation named {name:?}"),
        )),
    }
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
