//! `/api/v1/conferences/{id}/delegations/{delegation_id}/members`: the conference's
//! organisers and the delegation's focal points (who may: [`crate::access`]; the nomination
//! rules: [`crate::store::members`]).

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::delegation::{parse_member, Member};
use crate::domain::input::Errors;
use crate::domain::Caller;
use crate::domain::Mode;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::standing;
use crate::store::{delegations, members, PageRequest};

/// Checks the caller may read the members of this delegation ([`Need::ReadMembers`]:
/// organisers, its focal points) and the delegation belongs to the conference. (Writes check
/// their own rule, [`Need::Nominate`], inside their transaction: [`members::create`].)
async fn authorise(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<(), ApiError> {
    standing::conference(
        conn,
        caller,
        conference_id,
        Need::ReadMembers(delegation_id),
    )
    .await?;
    delegations::get(conn, conference_id, delegation_id).await?;
    Ok(())
}

/// `GET .../members`: head first, then in the order added.
pub async fn list(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    authorise(&mut conn, caller.0, conference_id, delegation_id).await?;
    Ok(ok_tagged(
        &req,
        &members::list(&mut conn, delegation_id, &page).await?,
    ))
}

/// `POST .../members`: 201; 403 for a focal point sending review fields; 409 for a second
/// head, after the nominations deadline (focal points), past a quota.
pub async fn create(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_member(&value, Mode::Create));
    let mut conn = state.conn().await?;
    let write = members::create(
        &mut conn,
        Some(caller.0),
        conference_id,
        delegation_id,
        input,
    );
    respond(write, move |row: &members::MemberRow| {
        let location = format!(
            "/api/v1/conferences/{conference_id}/delegations/{delegation_id}/members/{}",
            row.id
        );
        created_tagged(location, &Member::from(row.clone()))
    })
    .await
}

/// `PATCH .../members/{member_id}`: a focal point's change puts an accepted or rejected
/// member back to `nominated`; 403 and 409 as for `POST`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, id) = *path;
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_member(&value, Mode::Patch));
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let row = members::update(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        id,
        &if_match,
        input,
    )
    .await?;
    Ok(ok_tagged(&req, &Member::from(row)))
}

/// `DELETE .../members/{member_id}`: 409 for a focal point after the nominations deadline.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, id) = *path;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    members::delete(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        id,
        &if_match,
    )
    .await?;
    Ok(no_content())
}
