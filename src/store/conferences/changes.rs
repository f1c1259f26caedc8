//! Creating, changing and deleting conferences: audited writes ([`crate::store::write`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ConferenceRow;
use crate::access::Need;
use crate::db::schema::{conference_organisers, conferences, delegations, sessions};
use crate::domain::conference::ConferenceChanges;
use crate::domain::input::Errors;
use crate::domain::precondition::IfMatch;
use crate::domain::session::local_date;
use crate::domain::vocab::OrganiserRole;
use crate::store::write::{self, Input, Scope, UNCONDITIONAL};
use crate::store::{Caller, StoreError};

/// Checks what the columns cannot: the host organisation exists, and existing sessions still
/// lie within the (possibly changed) dates in the (possibly changed) zone. Errors: 422.
async fn check_references(
    conn: &mut AsyncPgConnection,
    row: &ConferenceRow,
    check_sessions: bool,
) -> Result<(), StoreError> {
    let mut errors = Errors::new();
    if let Some(org) = row.host_organisation_id {
        if !crate::store::organisations::missing(conn, &[org])
            .await?
            .is_empty()
        {
            errors.push("host_organisation_id", "no organisation has this id");
        }
    }
    if check_sessions {
        let tz = row.tz();
        let times: Vec<(DateTime<Utc>, DateTime<Utc>)> = sessions::table
            .filter(sessions::conference_id.eq(row.id))
            .select((sessions::starts_at, sessions::ends_at))
            .load(conn)
            .await?;
        let outside = times.iter().any(|(s, e)| {
            let (s, e) = (local_date(*s, tz), local_date(*e, tz));
            s < row.start_date || e > row.end_date
        });
        if outside {
            errors.push(
                "start_date",
                "existing sessions would fall outside the conference dates",
            );
        }
    }
    Ok(errors.into_fields()?)
}

/// Creates a conference and makes `owner` (if any) its owner, in one transaction, recorded in
/// the audit log when an organiser (`caller`) writes it. Errors: 422 (unknown host
/// organisation).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    row: ConferenceRow,
    owner: Option<Uuid>,
) -> Result<ConferenceRow, StoreError> {
    write::create(conn, Scope::outside(caller, UNCONDITIONAL), async |conn| {
        check_references(conn, &row, false).await?;
        let saved: ConferenceRow = diesel::insert_into(conferences::table)
            .values(&row)
            .returning(ConferenceRow::as_returning())
            .get_result(conn)
            .await?;
        if let Some(owner) = owner {
            diesel::insert_into(conference_organisers::table)
                .values((
                    conference_organisers::conference_id.eq(saved.id),
                    conference_organisers::organiser_id.eq(owner),
                    conference_organisers::role.eq(OrganiserRole::Owner),
                ))
                .execute(conn)
                .await?;
        }
        Ok(saved)
    })
    .await
}

/// The conference, locked `FOR UPDATE`. Errors: 404.
async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ConferenceRow, StoreError> {
    conferences::table
        .find(id)
        .for_update()
        .select(ConferenceRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found("no such conference"))
}

/// Applies a `PATCH` to a conference if `if_match` holds, re-checking references and
/// sessions. In this order: the access check ([`Need::Write`]), 422 (the body, `changes`),
/// 404, 412, 422 (references and sessions).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    changes: Input<ConferenceChanges>,
) -> Result<ConferenceRow, StoreError> {
    let scope = Scope::conference(caller, id, Need::Write, if_match);
    write::update(
        conn,
        scope,
        async |conn| {
            changes.value()?;
            lock(conn, id).await
        },
        async |conn, before| {
            let changes = changes.value()?;
            let timing_changed = changes.start_date.is_some()
                || changes.end_date.is_some()
                || changes.time_zone.is_some();
            let mut row = before.clone();
            row.apply(changes);
            if row.end_date < row.start_date {
                return Err(StoreError::field(
                    "end_date",
                    "must not be before start_date",
                ));
            }
            check_references(conn, &row, timing_changed).await?;
            Ok(diesel::update(conferences::table.find(id))
                .set(&row)
                .returning(ConferenceRow::as_returning())
                .get_result(conn)
                .await?)
        },
    )
    .await
}

/// Deletes a conference if `if_match` holds. Errors: 412; 409 when it has delegations and
/// `cascade` is false.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    cascade: bool,
) -> Result<(), StoreError> {
    let scope = Scope::conference(caller, id, Need::Write, if_match);
    write::delete(
        conn,
        scope,
        async |conn| lock(conn, id).await,
        async |conn, _| {
            let has_delegations: bool = diesel::select(diesel::dsl::exists(
                delegations::table.filter(delegations::conference_id.eq(id)),
            ))
            .get_result(conn)
            .await?;
            if has_delegations && !cascade {
                return Err(StoreError::Conflict(
                    "the conference has delegations; delete with ?cascade=true".to_string(),
                ));
            }
            diesel::delete(conferences::table.find(id))
                .execute(conn)
                .await?;
            Ok(())
        },
    )
    .await
}
