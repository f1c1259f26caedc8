//! `/api/v1/conferences/{id}/check-ins`: scans of badges at the doors (API.md, "Badges,
//! check-in and presence").

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::domain::badge::parse_scans;
use crate::domain::input::Errors;
use crate::error::ApiError;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{ok, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::{badges, standing, PageRequest};

/// `POST .../check-ins` (organisers, check-in staff) with one scan `{"token", "session_id",
/// "direction", "scanned_at", "nonce"}` or `{"items": [...]}` (1 to 500): 200 `{"items":
/// [{"nonce", "result", "member_id", "delegation_id"}]}` in the order sent. A bad token is a
/// result (`invalid`, `revoked`, `other_conference`, `not_accredited`), a nonce already
/// recorded `repeat`. Errors: 401, 403/404, 422 (the shape of a scan, `scanned_at` more than
/// 5 minutes ahead, a `session_id` not of this conference).
pub async fn create(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let conference_id = *path;
    let value = parse_json(&req, &body)?;
    let mut conn = state.conn().await?;
    // Who may, before what the body says.
    standing::conference(
        &conn,
        Some(caller.0),
        conference_id,
        crate::access::Need::CheckIn,
    )
    .await?;
    let (scans, batch) = parse_scans(&value, chrono::Utc::now())?;
    let write = badges::check_in(&mut conn, caller.0, conference_id, scans, batch);
    respond(write, ok).await
}

/// `GET .../check-ins?session_id=&member_id=&limit=&cursor=` (organisers): 200 `{"items":
/// [{"id", "nonce", "member_id", "delegation_id", "session_id", "direction", "version",
/// "scanned_at", "recorded_at"}], "next_cursor"}` in the order recorded. Errors: 401, 403/404,
/// 422.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    let session_id = query.uuid("session_id", &mut errors);
    let member_id = query.uuid("member_id", &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &badges::list(&mut conn, caller.0, *path, session_id, member_id, &page).await?,
    ))
}
