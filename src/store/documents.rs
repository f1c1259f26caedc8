//! The store side of conference documents (`crate::import`): a validated [`Document`] saved
//! in one transaction, skipped when a document with the same SHA-256 was imported before.
//!
//! Saving resolves the names a document uses that need the database: organisations are found
//! by name (regardless of case) or created, `host_organisation` and a delegation's
//! `organisation` name an organisation of the document or of the database, and a session's
//! delegations are named by country or by the name or acronym of a document organisation.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::conferences::ConferenceRow;
use super::delegations::DelegationRow;
use super::organisations::{self, OrganisationRow};
use super::write::Input;
use super::StoreError;
use crate::db::schema::{conference_imports, conferences, delegations, sessions};
use crate::domain::conference::ConferenceChanges;
use crate::domain::delegation::{DelegationChanges, MemberChanges};
use crate::domain::session::SessionChanges;

/// The connection [`save`] takes, named here so that the importer names no database crate.
pub type Connection = AsyncPgConnection;

/// A conference document whose every field is valid; only its names are not yet resolved.
#[derive(Debug, Clone)]
pub struct Document {
    /// The conference's stable id.
    pub id: Uuid,
    /// SHA-256 of the document's JSON, lower-case hex: unchanged documents are skipped.
    pub sha256: String,
    /// Organisations to find by name (regardless of case) or create.
    pub organisations: Vec<OrganisationRow>,
    /// The conference, as a validated `POST /conferences`.
    pub conference: ConferenceChanges,
    /// The name or acronym of the host organisation, if any.
    pub host_organisation: Option<String>,
    /// Delegations in document order (`delegations[i]` in error fields).
    pub delegations: Vec<DelegationInput>,
    /// Sessions in document order (`sessions[i]` in error fields).
    pub sessions: Vec<SessionInput>,
}

/// One delegation of a [`Document`] with its members.
#[derive(Debug, Clone)]
pub struct DelegationInput {
    /// The validated delegation fields (a `PATCH` when `organisation` is given, else a `POST`).
    pub changes: DelegationChanges,
    /// The name or acronym of the delegation's organisation, instead of `organisation_id`.
    /// A delegation must not give both this and a country.
    pub organisation: Option<String>,
    /// Its members, each a validated member `POST`.
    pub members: Vec<MemberChanges>,
}

/// One session of a [`Document`] with the delegations it names.
#[derive(Debug, Clone)]
pub struct SessionInput {
    /// The validated session fields, without `delegation_ids`.
    pub changes: SessionChanges,
    /// The delegations attending, by country or organisation.
    pub delegations: Vec<PartyName>,
}

/// A delegation named in a session: by country or by organisation name or acronym.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyName {
    /// The name as the document gives it (for error messages).
    pub name: String,
    /// The lower-case lookup key: the alpha-2 code when `name` is a country, else `name`.
    pub key: String,
}

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

/// Lower-case organisation names and acronyms to organisation ids.
type OrgIds = HashMap<String, Uuid>;

/// Lower-case countries and organisation names or acronyms to the delegations stored for them.
type PartyIds = HashMap<String, Uuid>;

/// Saves `document` all or nothing, recording `source` (a file name) with its SHA-256, and
/// makes `owner` the owner of a new conference. A document imported before unchanged is
/// [`Outcome::Unchanged`] and writes nothing; a changed one updates the conference and
/// organisations and replaces the conference's delegations (with members) and sessions.
///
/// Errors: 422 naming the document field (`conference.host_organisation`,
/// `delegations[i].organisation`, `sessions[i].delegations`) when a name resolves to nothing
/// or a delegation gives both a country and an organisation; the errors of the conference,
/// delegation, member and session stores (409, 422); database errors.
pub async fn save(
    conn: &mut AsyncPgConnection,
    document: Document,
    source: &str,
    owner: Option<Uuid>,
) -> Result<Outcome, StoreError> {
    let scope = super::write::Scope::outside(None, super::write::UNCONDITIONAL);
    super::write::run(conn, scope, async |tx| {
        write(tx.conn, document.clone(), source, owner).await
    })
    .await
}

/// The body of [`save`]'s transaction.
async fn write(
    conn: &mut AsyncPgConnection,
    document: Document,
    source: &str,
    owner: Option<Uuid>,
) -> Result<Outcome, StoreError> {
    let id = document.id;
    if previous_digest(conn, id).await?.as_deref() == Some(document.sha256.as_str()) {
        return Ok(Outcome::Unchanged { id });
    }
    let org_ids = save_organisations(conn, document.organisations).await?;
    let mut row = ConferenceRow::new(document.conference, owner);
    row.id = id;
    if let Some(name) = &document.host_organisation {
        row.host_organisation_id =
            Some(lookup_org(conn, &org_ids, name, "conference.host_organisation".into()).await?);
    }
    let existed = save_conference(conn, &mut row, owner).await?;
    let delegations = document.delegations.len();
    let party_ids = save_delegations(conn, id, &org_ids, document.delegations).await?;
    save_sessions(conn, &row, &party_ids, document.sessions).await?;
    record_import(conn, id, &document.sha256, source).await?;
    Ok(if existed {
        Outcome::Updated { id, delegations }
    } else {
        Outcome::Created { id, delegations }
    })
}

/// The SHA-256 recorded by the last import of conference `id`, if any.
async fn previous_digest(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<String>> {
    conference_imports::table
        .find(id)
        .select(conference_imports::digest)
        .first(conn)
        .await
        .optional()
}

/// Finds each organisation by name regardless of case, else creates it; returns the ids by
/// lower-case name and acronym (the stored organisation's acronym).
async fn save_organisations(
    conn: &mut AsyncPgConnection,
    rows: Vec<OrganisationRow>,
) -> Result<OrgIds, StoreError> {
    let mut org_ids = OrgIds::new();
    for row in rows {
        let saved = match organisations::find_by_name(conn, &row.name).await? {
            Some(existing) => existing,
            None => organisations::insert(conn, &row).await?,
        };
        org_ids.insert(row.name.to_lowercase(), saved.id);
        if let Some(acronym) = &saved.acronym {
            org_ids.insert(acronym.to_lowercase(), saved.id);
        }
    }
    Ok(org_ids)
}

/// Updates the conference of `row.id` (keeping its `created_at`) and deletes its sessions
/// and delegations, or creates it with `owner`. Returns whether it existed.
async fn save_conference(
    conn: &mut AsyncPgConnection,
    row: &mut ConferenceRow,
    owner: Option<Uuid>,
) -> Result<bool, StoreError> {
    let id = row.id;
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
            .set(&*row)
            .execute(conn)
            .await?;
        diesel::delete(sessions::table.filter(sessions::conference_id.eq(id)))
            .execute(conn)
            .await?;
        diesel::delete(delegations::table.filter(delegations::conference_id.eq(id)))
            .execute(conn)
            .await?;
    } else {
        super::conferences::create(conn, None, row.clone(), owner).await?;
    }
    Ok(existed)
}

/// Stores the delegations of conference `id` with their members, resolving organisation
/// names. Returns the delegation ids by lower-case country and by every document name and
/// acronym of their organisation.
async fn save_delegations(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    org_ids: &OrgIds,
    inputs: Vec<DelegationInput>,
) -> Result<PartyIds, StoreError> {
    let mut rows = Vec::new();
    let mut members = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let mut changes = input.changes;
        if let Some(name) = input.organisation {
            let field = format!("delegations[{i}].organisation");
            if changes.country.clone().flatten().is_some() {
                return Err(StoreError::field(
                    field,
                    "give either country or organisation, not both",
                ));
            }
            changes.organisation_id = Some(Some(lookup_org(conn, org_ids, &name, field).await?));
        }
        let d = DelegationRow::new(id, changes);
        members.push((d.id, input.members));
        rows.push(d);
    }
    let saved = super::delegations::insert_all(
        conn,
        None,
        id,
        Input::checked(rows.into_iter().map(|r| (r, None)).collect()),
        true,
    )
    .await?;
    let mut party_ids = PartyIds::new();
    for d in &saved {
        if let Some(c) = &d.country {
            party_ids.insert(c.to_lowercase(), d.id);
        }
        if let Some(o) = d.organisation_id {
            for (name, oid) in org_ids {
                if *oid == o {
                    party_ids.insert(name.clone(), d.id);
                }
            }
        }
    }
    for (delegation_id, list) in members {
        for m in list {
            super::members::create(conn, None, id, delegation_id, Input::checked(m)).await?;
        }
    }
    Ok(party_ids)
}

/// Creates the sessions of `conference`, with their delegations resolved by `party_ids`.
async fn save_sessions(
    conn: &mut AsyncPgConnection,
    conference: &ConferenceRow,
    party_ids: &PartyIds,
    inputs: Vec<SessionInput>,
) -> Result<(), StoreError> {
    for (i, input) in inputs.into_iter().enumerate() {
        let mut ids = Vec::new();
        for party in input.delegations {
            match party_ids.get(&party.key) {
                Some(d) => ids.push(*d),
                None => {
                    return Err(StoreError::field(
                        format!("sessions[{i}].delegations"),
                        format!("no delegation of {:?}", party.name),
                    ))
                }
            }
        }
        let mut changes = input.changes;
        changes.delegation_ids = Some(ids);
        super::sessions::create(conn, None, conference.id, Input::checked(changes)).await?;
    }
    Ok(())
}

/// Records (or replaces) the SHA-256 and source of the import of conference `id`.
async fn record_import(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    digest: &str,
    source: &str,
) -> QueryResult<()> {
    diesel::insert_into(conference_imports::table)
        .values((
            conference_imports::conference_id.eq(id),
            conference_imports::digest.eq(digest),
            conference_imports::source.eq(source),
        ))
        .on_conflict(conference_imports::conference_id)
        .do_update()
        .set((
            conference_imports::digest.eq(digest),
            conference_imports::source.eq(source),
            conference_imports::imported_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The organisation named `name` (or with that acronym) in the document or the database.
async fn lookup_org(
    conn: &mut AsyncPgConnection,
    org_ids: &OrgIds,
    name: &str,
    field: String,
) -> Result<Uuid, StoreError> {
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
