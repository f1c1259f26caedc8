//! `/api/v1/conferences/{id}/sessions`.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::input::Errors;
use crate::domain::session::{parse_session, Session};
use crate::domain::Mode;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::standing;
use crate::store::{sessions, PageRequest};

/// `GET .../sessions`: in time order.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &sessions::list(&mut conn, &access.conference, &page).await?,
    ))
}

/// `POST .../sessions`: times with an offset, or local times in the conference's zone.
pub async fn create(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_session(&value, Mode::Create));
    let conference_id = path.into_inner();
    let mut conn = state.conn().await?;
    let write = sessions::create(&mut conn, Some(caller.0), conference_id, input);
    respond(write, move |session: &Session| {
        let location = format!(
            "/api/v1/conferences/{conference_id}/sessions/{}",
            session.id
        );
        created_tagged(location, session)
    })
    .await
}

/// `GET .../sessions/{session_id}`.
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, conference_id, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &sessions::get(&mut conn, &access.conference, id).await?,
    ))
}

/// `PATCH .../sessions/{session_id}`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_session(&value, Mode::Patch));
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let session =
        sessions::update(&mut conn, caller.0, conference_id, id, &if_match, input).await?;
    Ok(ok_tagged(&req, &session))
}

/// `DELETE .../sessions/{session_id}`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    sessions::delete(&mut conn, caller.0, conference_id, id, &if_match).await?;
    Ok(no_content())
}
