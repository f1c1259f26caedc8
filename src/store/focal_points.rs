//! Focal points of delegations and their invitations (`focal_points`; API.md
//! "Accreditation").
//!
//! One row per invitation. An organiser invites an email to be the focal point of a
//! delegation ([`invite`]): the answer carries a code of 256 random bits (43 characters of
//! base64url), which is never stored, only its SHA-256. Accepting the code ([`accept`])
//! links the row to an account (created then, or an existing one whose password the caller
//! knew) and makes it active; revoking it ([`revoke`]) stops the code and the grant at once.
//! The grant is read on every request (with the conference, by
//! [`super::conferences::with_standing`]), so revocation needs no token
//! blacklist.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::audit::ResourceKind;
use super::codes::{hash_code, new_code};
use super::outbox::{self, Email};
use super::write::{self, Audited, Input, Scope, UNCONDITIONAL};
use super::{lower, new_id, Caller, StoreError};
use crate::access::Need;
use crate::db::schema::{delegations, focal_points, organisers};
use crate::domain::mail::MailKind;

/// A focal point's state, derived from its row: `revoked`, `active` (accepted), `expired`
/// (not accepted in time) or `invited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FocalPointStatus {
    /// Invited; the code works until `expires_at`.
    Invited,
    /// The invitation was accepted: the account is the delegation's focal point.
    Active,
    /// Revoked by an organiser: the code and the grant no longer work.
    Revoked,
    /// Not accepted before `expires_at`.
    Expired,
}

/// A `focal_points` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = focal_points, treat_none_as_default_value = false)]
pub struct FocalPointRow {
    /// UUID v7.
    pub id: Uuid,
    /// The conference of the delegation.
    pub conference_id: Uuid,
    /// The delegation.
    pub delegation_id: Uuid,
    /// The email invited (NFC, as given; compared regardless of case).
    pub email: String,
    /// The name invited.
    pub name: String,
    /// Hex SHA-256 of the invitation code.
    pub code_hash: String,
    /// When the code stops working if not accepted.
    pub expires_at: DateTime<Utc>,
    /// The account, once accepted.
    pub organiser_id: Option<Uuid>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The organiser who invited.
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// A focal point as the API shows it (never with a code):
/// `{"id", "delegation_id", "email", "name", "status", "account_id", "expires_at",
/// "accepted_at", "revoked_at", "created_at"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FocalPoint {
    /// Id.
    pub id: Uuid,
    /// The delegation.
    pub delegation_id: Uuid,
    /// The email invited.
    pub email: String,
    /// The name invited.
    pub name: String,
    /// `invited`, `active`, `revoked` or `expired`.
    pub status: FocalPointStatus,
    /// The account once accepted, else `null`.
    pub account_id: Option<Uuid>,
    /// When an unaccepted code stops working (RFC 3339).
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, else `null`.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked, else `null`.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was invited.
    pub created_at: DateTime<Utc>,
}

impl FocalPointRow {
    /// Its status at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> FocalPointStatus {
        if self.revoked_at.is_some() {
            FocalPointStatus::Revoked
        } else if self.accepted_at.is_some() {
            FocalPointStatus::Active
        } else if self.expires_at <= now {
            FocalPointStatus::Expired
        } else {
            FocalPointStatus::Invited
        }
    }
}

impl From<&FocalPointRow> for FocalPoint {
    fn from(r: &FocalPointRow) -> Self {
        FocalPoint {
            id: r.id,
            delegation_id: r.delegation_id,
            email: r.email.clone(),
            name: r.name.clone(),
            status: r.status(Utc::now()),
            account_id: r.organiser_id,
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
        }
    }
}

impl Audited for FocalPointRow {
    const KIND: ResourceKind = ResourceKind::FocalPoint;
    type Repr = FocalPoint;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> FocalPoint {
        FocalPoint::from(self)
    }
    fn conference_id(&self) -> Option<Uuid> {
        Some(self.conference_id)
    }
}

/// A new invitation: the row and its code, which exists only in this value and the first
/// response (`invitation_code`).
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The stored row.
    pub row: FocalPointRow,
    /// The code: 256 random bits, base64url without padding (43 characters).
    pub code: String,
}

const NO_SUCH_DELEGATION: &str = "no such delegation in this conference";
const NO_SUCH_FOCAL_POINT: &str = "no such focal point of this delegation";

/// Invites `email` (`name`), the body's (`input`), to be the focal point of a delegation
/// (audited; organisers of the conference, [`Need::Write`]), the code valid for `ttl_days`.
/// Errors, in this order: the access check; 404 for a delegation of another conference; 422
/// (the body); 409 when the email (any letter case) is already invited (unexpired) or active
/// for this delegation.
pub async fn invite(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    input: Input<(String, String)>,
    ttl_days: i64,
) -> Result<Invitation, StoreError> {
    let code = new_code();
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        // The delegation's row lock serialises invitations to it, so the duplicate check
        // below holds under concurrency.
        delegations::table
            .filter(delegations::id.eq(delegation_id))
            .filter(delegations::conference_id.eq(conference_id))
            .select(delegations::id)
            .for_update()
            .first::<Uuid>(tx.conn)
            .await
            .optional()?
            .ok_or_else(|| StoreError::not_found(NO_SUCH_DELEGATION))?;
        let (email, name) = input.value()?;
        let email = email.as_str();
        let now = Utc::now();
        let row = FocalPointRow {
            id: new_id(),
            conference_id,
            delegation_id,
            email: email.to_string(),
            name,
            code_hash: hash_code(&code),
            // The setting is 1..=365 (config::NUMERIC_SETTINGS); the clamp keeps any other
            // caller of this function from a `Duration` panic.
            expires_at: now + Duration::days(ttl_days.clamp(1, 365)),
            organiser_id: None,
            accepted_at: None,
            revoked_at: None,
            created_by: Some(caller.id),
            created_at: now,
            updated_at: now,
        };
        let live: bool = diesel::select(diesel::dsl::exists(
            focal_points::table
                .filter(focal_points::delegation_id.eq(delegation_id))
                .filter(lower(focal_points::email).eq(lower(email)))
                .filter(focal_points::revoked_at.is_null())
                .filter(
                    focal_points::accepted_at
                        .is_not_null()
                        .or(focal_points::expires_at.gt(diesel::dsl::now)),
                ),
        ))
        .get_result(tx.conn)
        .await?;
        if live {
            return Err(StoreError::Conflict(
                "this email is already invited or active as a focal point of this delegation; revoke it first to invite again".into(),
            ));
        }
        let saved: FocalPointRow = diesel::insert_into(focal_points::table)
            .values(&row)
            .returning(FocalPointRow::as_returning())
            .get_result(tx.conn)
            .await?;
        tx.created(&saved);
        let mut context =
            outbox::conference_context(tx.conn, conference_id, Some(delegation_id)).await?;
        context.insert("code".into(), code.clone().into());
        context.insert(
            "expires_at".into(),
            saved.expires_at.format("%Y-%m-%d %H:%M").to_string().into(),
        );
        tx.notify(Email::new(
            MailKind::Invitation,
            Some(conference_id),
            &saved.email,
            &saved.name,
            serde_json::Value::Object(context),
        ));
        Ok(Invitation {
            row: saved,
            code: code.clone(),
        })
    })
    .await
}

/// The focal points of a delegation, in the order invited.
pub async fn list(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
) -> QueryResult<Vec<FocalPoint>> {
    let rows: Vec<FocalPointRow> = focal_points::table
        .filter(focal_points::delegation_id.eq(delegation_id))
        .order(focal_points::id.asc())
        .select(FocalPointRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.iter().map(FocalPoint::from).collect())
}

/// Revokes a focal point (audited; organisers, [`Need::Write`]): an unused code stops working
/// and an active focal point loses the delegation at once. Revoking a revoked one changes
/// nothing. Errors: the access check; 404 for a delegation of another conference, then 404
/// unless it is a focal point of this delegation.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    write::update(
        conn,
        scope,
        async |conn| {
            let found = focal_points::table
                .filter(focal_points::id.eq(id))
                .filter(focal_points::delegation_id.eq(delegation_id))
                .filter(focal_points::conference_id.eq(conference_id))
                .for_update()
                .select(FocalPointRow::as_select())
                .first(conn)
                .await
                .optional()?;
            match found {
                Some(row) => Ok(row),
                None => {
                    // Which of the two is missing (read only on the way to a 404).
                    let delegation: Option<Uuid> = delegations::table
                        .filter(delegations::id.eq(delegation_id))
                        .filter(delegations::conference_id.eq(conference_id))
                        .select(delegations::id)
                        .first(conn)
                        .await
                        .optional()?;
                    Err(StoreError::not_found(match delegation {
                        Some(_) => NO_SUCH_FOCAL_POINT,
                        None => NO_SUCH_DELEGATION,
                    }))
                }
            }
        },
        async |conn, before| {
            if before.revoked_at.is_some() {
                return Ok(before.clone());
            }
            Ok(diesel::update(focal_points::table.find(id))
                .set((
                    focal_points::revoked_at.eq(diesel::dsl::now),
                    focal_points::updated_at.eq(diesel::dsl::now),
                ))
                .returning(FocalPointRow::as_returning())
                .get_result(conn)
                .await?)
        },
    )
    .await?;
    Ok(())
}

/// One entry of `GET /me`'s `focal_point_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FocalPointOf {
    /// The conference.
    pub conference_id: Uuid,
    /// The delegation.
    pub delegation_id: Uuid,
}

/// Every delegation account `account` is an active focal point of, oldest grant first.
pub async fn of_account(
    conn: &mut AsyncPgConnection,
    account: Uuid,
) -> QueryResult<Vec<FocalPointOf>> {
    let rows: Vec<(Uuid, Uuid)> = focal_points::table
        .filter(focal_points::organiser_id.eq(account))
        .filter(focal_points::revoked_at.is_null())
        .order(focal_points::id.asc())
        .select((focal_points::conference_id, focal_points::delegation_id))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(conference_id, delegation_id)| FocalPointOf {
            conference_id,
            delegation_id,
        })
        .collect())
}

/// The one rule of a usable invitation: neither accepted nor revoked, and not expired by
/// the database's clock.
fn still_usable() -> Box<
    dyn BoxableExpression<focal_points::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>,
> {
    Box::new(
        focal_points::accepted_at
            .is_null()
            .and(focal_points::revoked_at.is_null())
            .and(focal_points::expires_at.gt(diesel::dsl::now)),
    )
}

/// An invitation that can still be accepted, locked for the acceptance: its code's hash
/// matches, it is neither accepted nor revoked, and it has not expired by the database's
/// clock. `None` otherwise (the caller answers the same 401 either way).
pub async fn usable(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> QueryResult<Option<FocalPointRow>> {
    focal_points::table
        .filter(focal_points::code_hash.eq(hash_code(code)))
        .filter(still_usable())
        .select(FocalPointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// How an invitation is accepted.
#[derive(Debug, Clone)]
pub enum Acceptor {
    /// By the existing account with the invitation's email (its password was checked).
    Existing(Uuid),
    /// By a new account: name and argon2id hash of the password given.
    New {
        /// The account's name.
        name: String,
        /// argon2id PHC string.
        password_hash: String,
        /// Whether the code proves the address: true when codes leave only in the
        /// invitation e-mail, false when they are also handed out in API responses
        /// (`PLENARY_INVITATION_CODES_IN_RESPONSE`).
        email_verified: bool,
    },
}

/// Accepts invitation `id` (found by [`usable`]) for `acceptor`, in one audited
/// transaction logged in the conference's log with the accepting account as its author:
/// the code is re-checked under a row lock (a code works once, also when two acceptances
/// race), a new account is created without the organiser grant (its address verified or not
/// as the acceptor says), and the row is made
/// active. Answers the account's id, or `None` when the code is no longer usable.
///
/// Errors: 409 when a new account's email was taken meanwhile; database errors.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    email: &str,
    acceptor: Acceptor,
) -> Result<Option<Uuid>, StoreError> {
    let account = match &acceptor {
        Acceptor::Existing(account) => *account,
        Acceptor::New { .. } => new_id(),
    };
    let actor = Caller {
        id: account,
        is_admin: false,
        is_organiser: false,
    };
    write::run(
        conn,
        Scope::outside(Some(actor), UNCONDITIONAL),
        async |tx| {
            let before: Option<FocalPointRow> = focal_points::table
                .filter(focal_points::id.eq(id))
                .filter(still_usable())
                .for_update()
                .select(FocalPointRow::as_select())
                .first(tx.conn)
                .await
                .optional()?;
            let Some(before) = before else {
                return Ok(None);
            };
            if let Acceptor::New {
                name,
                password_hash,
                email_verified,
            } = &acceptor
            {
                diesel::insert_into(organisers::table)
                    .values((
                        organisers::id.eq(account),
                        organisers::email.eq(email),
                        organisers::name.eq(name),
                        organisers::password_hash.eq(password_hash),
                        organisers::is_admin.eq(false),
                        organisers::is_organiser.eq(false),
                        organisers::email_verified.eq(email_verified),
                    ))
                    .execute(tx.conn)
                    .await?;
            }
            let after: FocalPointRow = diesel::update(focal_points::table.find(id))
                .set((
                    focal_points::organiser_id.eq(account),
                    focal_points::accepted_at.eq(diesel::dsl::now),
                    focal_points::updated_at.eq(diesel::dsl::now),
                ))
                .returning(FocalPointRow::as_returning())
                .get_result(tx.conn)
                .await?;
            tx.updated(&before, &after);
            Ok(Some(account))
        },
    )
    .await
}
