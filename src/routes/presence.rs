//! `/api/v1/conferences/{id}/sessions/{session_id}/attendance`: the delegations present at
//! one session, read (`GET`) and replaced (`PUT`).
//!
//! The presence matrix of a whole conference, `GET /api/v1/conferences/{id}/attendance?by=session`,
//! is served with the rest of that URL by `conferences.rs` (from `store::presence::matrix`).

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::attendance::parse_delegation_ids;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::parse_json;
use crate::http::respond::ok_tagged;
use crate::state::AppState;
use crate::store::presence;
use crate::store::standing;

/// `GET .../sessions/{session_id}/attendance`: the delegations present (public for published
/// and cancelled conferences). Errors: 404 (conference, or session not in it).
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, session_id) = *path;
    let mut conn = state.conn().await?;
    standing::conference(&conn, caller.0, conference_id, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &presence::get(&mut conn, &state.countries, conference_id, session_id).await?,
    ))
}

/// `PUT .../sessions/{session_id}/attendance` `{"delegation_ids": [...]}`: replaces the
/// delegations present (owners, editors, admins); 200 with the new state and its `ETag`;
/// honours `If-Match`. Errors: 401, 403, 404, 412, 422 (body, or a delegation of another
/// conference).
pub async fn put(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, session_id) = *path;
    let value = parse_json(&req, &body)?;
    let ids = write_input(&value, parse_delegation_ids(&value));
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let saved = presence::set(
        &mut conn,
        &state.countries,
        caller.0,
        conference_id,
        session_id,
        &if_match,
        ids,
    )
    .await?;
    Ok(ok_tagged(&req, &saved))
}
