//! Letters of credentials (API.md "Accreditation"): one PDF per delegation, uploaded by its
//! focal points or the organisers, reviewed by the organisers.
//!
//! The review state is `delegation_credentials`, mirrored on `delegations.credentials` in the
//! same transaction; the PDF itself is `credential_documents`, read only by [`document`], so
//! no list or attendance query ever touches the documents.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::outbox;
use super::write::{self, Audited, Input, Scope};
use super::{paginate, protocol, Caller, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::{credential_documents, delegation_credentials, delegations};
use crate::domain::country::CountryIndex;
use crate::domain::mail::MailKind;
use crate::domain::precondition::IfMatch;
use crate::domain::vocab::CredentialsStatus;

/// The credentials of a delegation as the API shows them:
/// `{"status", "sha256", "bytes", "submitted_at", "submitted_by", "reviewed_at",
/// "reviewed_by", "note"}`; everything but `status` is null before the first upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credentials {
    /// `none`, `submitted`, `provisional`, `verified` or `rejected`.
    pub status: CredentialsStatus,
    /// Hex SHA-256 of the PDF.
    pub sha256: Option<String>,
    /// Size of the PDF in bytes.
    pub bytes: Option<i32>,
    /// When the current PDF was uploaded (RFC 3339).
    pub submitted_at: Option<DateTime<Utc>>,
    /// The account that uploaded it.
    pub submitted_by: Option<Uuid>,
    /// When the organisers last reviewed it.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The organiser who reviewed it.
    pub reviewed_by: Option<Uuid>,
    /// The review's note.
    pub note: Option<String>,
}

impl Credentials {
    fn none() -> Self {
        Credentials {
            status: CredentialsStatus::None,
            sha256: None,
            bytes: None,
            submitted_at: None,
            submitted_by: None,
            reviewed_at: None,
            reviewed_by: None,
            note: None,
        }
    }
}

/// A `delegation_credentials` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = delegation_credentials, treat_none_as_null = true, treat_none_as_default_value = false)]
struct CredentialsRow {
    delegation_id: Uuid,
    conference_id: Uuid,
    status: CredentialsStatus,
    sha256: String,
    bytes: i32,
    submitted_at: DateTime<Utc>,
    submitted_by: Option<Uuid>,
    reviewed_at: Option<DateTime<Utc>>,
    reviewed_by: Option<Uuid>,
    note: Option<String>,
}

impl From<&CredentialsRow> for Credentials {
    fn from(r: &CredentialsRow) -> Self {
        Credentials {
            status: r.status,
            sha256: Some(r.sha256.clone()),
            bytes: Some(r.bytes),
            submitted_at: Some(r.submitted_at),
            submitted_by: r.submitted_by,
            reviewed_at: r.reviewed_at,
            reviewed_by: r.reviewed_by,
            note: r.note.clone(),
        }
    }
}

/// The credentials of one delegation, locked or read: what audited writes compare and log.
#[derive(Debug, Clone)]
pub struct CredentialsState {
    /// The delegation.
    pub delegation_id: Uuid,
    /// Its conference.
    pub conference_id: Uuid,
    /// The representation.
    pub credentials: Credentials,
}

impl Audited for CredentialsState {
    const KIND: ResourceKind = ResourceKind::Credentials;
    type Repr = Credentials;
    fn id(&self) -> Uuid {
        self.delegation_id
    }
    fn repr(&self) -> Credentials {
        self.credentials.clone()
    }
    fn conference_id(&self) -> Option<Uuid> {
        Some(self.conference_id)
    }
    fn delegation_id(&self) -> Option<Uuid> {
        Some(self.delegation_id)
    }
}

const NO_SUCH_DELEGATION: &str = "no such delegation in this conference";

/// The credentials of delegation `delegation_id` of `conference_id` (`status: none` before
/// any upload). With `lock`, the delegation row is locked `FOR UPDATE` first, which
/// serialises every write to its credentials. Errors: 404 for a delegation of another
/// conference.
async fn load(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
    lock: bool,
) -> Result<CredentialsState, StoreError> {
    let query = delegations::table
        .filter(delegations::id.eq(delegation_id))
        .filter(delegations::conference_id.eq(conference_id))
        .select(delegations::id);
    let found: Option<Uuid> = if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    found.ok_or_else(|| StoreError::not_found(NO_SUCH_DELEGATION))?;
    let row: Option<CredentialsRow> = delegation_credentials::table
        .find(delegation_id)
        .select(CredentialsRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(CredentialsState {
        delegation_id,
        conference_id,
        credentials: row
            .as_ref()
            .map_or_else(Credentials::none, Credentials::from),
    })
}

/// The credentials of a delegation. Errors: 404 for a delegation of another conference.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<Credentials, StoreError> {
    Ok(load(conn, conference_id, delegation_id, false)
        .await?
        .credentials)
}

/// One line of the secretariat's credentials queue (`GET /conferences/{id}/credentials`).
#[derive(Debug, Clone, Serialize)]
pub struct QueuedCredentials {
    /// The delegation.
    pub delegation_id: Uuid,
    /// Its name as lists show it ([`protocol::Line::display_name`]).
    pub delegation: String,
    /// Its credentials, as `GET .../delegations/{did}/credentials` shows them.
    pub credentials: Credentials,
}

/// The keyset of the credentials queue: whether the delegation has no upload (those come
/// last), when its current letter was uploaded, then the delegation's id (creation order).
pub type QueueKey = (bool, Option<DateTime<Utc>>, Uuid);

/// The secretariat's credentials queue: every delegation of conference `conference_id` with
/// its credentials (only those whose status is `status`, when given), oldest upload first,
/// then the delegations without any upload (`none`) in creation order; keyset-paginated on
/// [`QueueKey`]. Organisers only ([`Need::Write`], as the members queue). Reads the
/// conference's delegations ([`protocol::lines`]) and their credentials rows by primary key,
/// never a document. Errors: the access refusal.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    caller: Caller,
    conference_id: Uuid,
    status: Option<CredentialsStatus>,
    page: &PageRequest<QueueKey>,
) -> Result<Page<QueuedCredentials>, StoreError> {
    super::standing::conference(conn, Some(caller), conference_id, Need::Write).await?;
    let lines = protocol::lines(conn, countries, conference_id).await?;
    let ids: Vec<Uuid> = lines.iter().map(|l| l.delegation.id).collect();
    let rows: std::collections::HashMap<Uuid, CredentialsRow> = delegation_credentials::table
        .filter(delegation_credentials::delegation_id.eq_any(&ids))
        .select(CredentialsRow::as_select())
        .load::<CredentialsRow>(conn)
        .await?
        .into_iter()
        .map(|r| (r.delegation_id, r))
        .collect();
    let mut queued: Vec<(QueueKey, QueuedCredentials)> = lines
        .iter()
        .map(|line| {
            let id = line.delegation.id;
            let credentials = rows
                .get(&id)
                .map_or_else(Credentials::none, Credentials::from);
            let key = (
                credentials.submitted_at.is_none(),
                credentials.submitted_at,
                id,
            );
            let item = QueuedCredentials {
                delegation_id: id,
                delegation: line.display_name(),
                credentials,
            };
            (key, item)
        })
        .filter(|(_, q)| status.is_none_or(|s| q.credentials.status == s))
        .filter(|(key, _)| page.after.as_ref().is_none_or(|after| key > after))
        .collect();
    queued.sort_by_key(|(key, _)| *key);
    queued.truncate(usize::try_from(page.limit).unwrap_or(0).saturating_add(1));
    Ok(paginate(
        queued,
        page.limit,
        |(key, _)| *key,
        |(_, item)| item,
    ))
}

/// The uploaded PDF of a delegation's credentials. Errors: 404 for a delegation of another
/// conference, or before any upload.
pub async fn document(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<Vec<u8>, StoreError> {
    load(conn, conference_id, delegation_id, false).await?;
    credential_documents::table
        .find(delegation_id)
        .select(credential_documents::document)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found("no letter of credentials has been uploaded"))
}

/// Sets the delegation's mirror of the status.
async fn mirror(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
    status: CredentialsStatus,
) -> Result<(), StoreError> {
    diesel::update(delegations::table.find(delegation_id))
        .set((
            delegations::credentials.eq(status),
            delegations::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Who may submit a delegation's letter of credentials: the conference's organisers and the
/// delegation's focal points. The one statement of the rule, for [`may_submit`] and [`submit`].
fn submitting(delegation_id: Uuid) -> Need {
    Need::Credentials(delegation_id)
}

/// Checks, before an upload is read, that `caller` may submit credentials for the delegation
/// (the rule of [`submit`], which checks it again inside its transaction) and that the
/// delegation is one of this conference's: so that nobody else has a 5 MiB body read, and a
/// refusal or 404 comes before 413 and 415 (API.md). Errors: 401/403/404 (access), 404.
pub async fn may_submit(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<(), StoreError> {
    super::standing::conference(conn, Some(caller), conference_id, submitting(delegation_id))
        .await?;
    get(conn, conference_id, delegation_id).await?;
    Ok(())
}

/// Stores `pdf` as the delegation's letter of credentials (audited; organisers and the
/// delegation's focal points), replacing any earlier one and setting the status back to
/// `submitted`. The caller has checked the content type, the size and the `%PDF-` magic.
/// Errors: 404, 412 (`If-Match` against the current credentials).
pub async fn submit(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    if_match: &IfMatch,
    pdf: &[u8],
) -> Result<Credentials, StoreError> {
    let sha256 = hex::encode(Sha256::digest(pdf));
    let bytes = i32::try_from(pdf.len())
        .map_err(|_| StoreError::field("document", "the document is too large"))?;
    let scope = Scope::conference(caller, conference_id, submitting(delegation_id), if_match);
    let state = write::update(
        conn,
        scope,
        async |conn| load(conn, conference_id, delegation_id, true).await,
        async |conn, before| {
            let row = CredentialsRow {
                delegation_id,
                conference_id,
                status: CredentialsStatus::Submitted,
                sha256: sha256.clone(),
                bytes,
                submitted_at: Utc::now(),
                submitted_by: Some(caller.id),
                reviewed_at: None,
                reviewed_by: None,
                note: None,
            };
            // The stored row (timestamps at PostgreSQL's microsecond precision) is what the
            // answer and its ETag are made of, so that the tag matches a later GET's.
            let row: CredentialsRow = diesel::insert_into(delegation_credentials::table)
                .values(&row)
                .on_conflict(delegation_credentials::delegation_id)
                .do_update()
                .set(&row)
                .returning(CredentialsRow::as_returning())
                .get_result(conn)
                .await?;
            diesel::insert_into(credential_documents::table)
                .values((
                    credential_documents::delegation_id.eq(delegation_id),
                    credential_documents::document.eq(pdf),
                ))
                .on_conflict(credential_documents::delegation_id)
                .do_update()
                .set(credential_documents::document.eq(pdf))
                .execute(conn)
                .await?;
            mirror(conn, delegation_id, CredentialsStatus::Submitted).await?;
            Ok(CredentialsState {
                credentials: Credentials::from(&row),
                ..before.clone()
            })
        },
    )
    .await?;
    Ok(state.credentials)
}

/// The organisers' review: sets `status` (`verified`, `provisional` or `rejected`) and
/// `note`, the body's (`input`; audited; organisers only, [`Need::Write`]; `If-Match`).
/// Errors, in this order: the access check, 404, 422 (the body), 412, 409 before any upload.
pub async fn review(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    if_match: &IfMatch,
    input: Input<(CredentialsStatus, Option<Option<String>>)>,
) -> Result<Credentials, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, if_match);
    let state = write::run(conn, scope, async |tx| {
        let before = load(tx.conn, conference_id, delegation_id, true).await?;
        let (status, note) = input.value()?;
        tx.precondition(&before)?;
        let after = async {
            let conn = &mut *tx.conn;
            let before = &before;
            if before.credentials.status == CredentialsStatus::None {
                return Err(StoreError::Conflict(
                    "no letter of credentials has been uploaded for this delegation yet".into(),
                ));
            }
            let note = note
                .clone()
                .unwrap_or_else(|| before.credentials.note.clone());
            let row: CredentialsRow =
                diesel::update(delegation_credentials::table.find(delegation_id))
                    .set((
                        delegation_credentials::status.eq(status),
                        delegation_credentials::note.eq(note),
                        delegation_credentials::reviewed_at.eq(diesel::dsl::now),
                        delegation_credentials::reviewed_by.eq(Some(caller.id)),
                    ))
                    .returning(CredentialsRow::as_returning())
                    .get_result(conn)
                    .await?;
            mirror(conn, delegation_id, status).await?;
            Ok::<_, StoreError>(CredentialsState {
                credentials: Credentials::from(&row),
                ..before.clone()
            })
        }
        .await?;
        tx.updated(&before, &after);
        let mut extra = serde_json::Map::new();
        let words = match status {
            CredentialsStatus::Verified => "verified",
            CredentialsStatus::Provisional => "accepted provisionally",
            _ => "rejected",
        };
        extra.insert("status_words".into(), words.into());
        if let Some(note) = &after.credentials.note {
            extra.insert("note".into(), note.clone().into());
        }
        let kind = MailKind::CredentialsReviewed;
        for email in
            outbox::to_focal_points(tx.conn, conference_id, delegation_id, kind, extra).await?
        {
            tx.notify(email);
        }
        Ok(after)
    })
    .await?;
    Ok(state.credentials)
}
