//! `/api/v1/organisations`: public reads, writes by any organiser.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::input::Errors;
use crate::domain::organisation::{parse_organisation_body, Organisation};
use crate::domain::{Mode, ORGANISATION_KINDS};
use crate::error::ApiError;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::attendance::{self, Party};
use crate::store::audit::{self, LogOf};
use crate::store::organisations::{self, OrganisationFilter, OrganisationRow};
use crate::store::standing;
use crate::store::PageRequest;

/// `GET /api/v1/organisations?q=&kind=&country=`. An invalid token is a 401, as on every read.
pub async fn list(
    req: HttpRequest,
    _caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let kind = query.one_of("kind", ORGANISATION_KINDS, &mut errors);
    let country = query
        .get("country")
        .and_then(|c| match state.countries.parse(c) {
            Ok(code) => Some(code.to_string()),
            Err(message) => {
                errors.push("country", message);
                None
            }
        });
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let filter = OrganisationFilter {
        q: query.get("q").map(str::to_string),
        kind,
        country,
    };
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &organisations::list(&mut conn, &filter, &page).await?,
    ))
}

async fn find(state: &AppState, id: Uuid) -> Result<OrganisationRow, ApiError> {
    let mut conn = state.conn().await?;
    organisations::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organisation".to_string()))
}

/// `GET /api/v1/organisations/{id}`.
pub async fn get(
    req: HttpRequest,
    path: web::Path<Uuid>,
    _caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, *path).await?;
    Ok(ok_tagged(&req, &Organisation::from(row)))
}

/// `POST /api/v1/organisations` (any organiser): 201; 409 on a duplicate name.
pub async fn create(
    req: HttpRequest,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    standing::organiser(caller.0)?;
    let changes = parse_organisation_body(&value, &state.countries, Mode::Create)?;
    let mut conn = state.conn().await?;
    let write = organisations::create(&mut conn, caller.0, OrganisationRow::new(changes));
    respond(write, |row: &OrganisationRow| {
        let location = format!("/api/v1/organisations/{}", row.id);
        created_tagged(location, &Organisation::from(row.clone()))
    })
    .await
}

/// `PATCH /api/v1/organisations/{id}` (any organiser).
pub async fn update(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    standing::organiser(caller.0)?;
    let changes = parse_organisation_body(&value, &state.countries, Mode::Patch)?;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let saved = organisations::update(&mut conn, caller.0, *path, &if_match, changes).await?;
    Ok(ok_tagged(&req, &Organisation::from(saved)))
}

/// `DELETE /api/v1/organisations/{id}` (any organiser): 204; 409 while referred to.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    standing::organiser(caller.0)?;
    let mut conn = state.conn().await?;
    organisations::delete(&mut conn, caller.0, *path, &IfMatch::from_request(&req)).await?;
    Ok(no_content())
}

/// `GET /api/v1/organisations/{id}/attendance?from=&to=`.
pub async fn attendance(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = *path;
    find(&state, id).await?;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let (from, to) = query.date_range(&mut errors);
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let rows = attendance::history(
        &mut conn,
        &Party::Organisation(id),
        caller.0,
        from,
        to,
        &page,
    )
    .await?;
    Ok(ok_tagged(&req, &rows))
}

/// `GET /api/v1/organisations/{id}/log?limit=&cursor=`: every write to the organisation
/// (who, when, what changed), newest first, for organisers. A deleted organisation keeps its
/// log. Errors: 401 without a token, 404 when no organisation has this id (nor ever had),
/// 422 (`limit`, `cursor`).
pub async fn log(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    standing::organiser(caller.0)?;
    let id = *path;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let exists = organisations::get(&mut conn, id).await?.is_some();
    if !exists && !audit::has_organisation(&mut conn, id).await? {
        return Err(ApiError::NotFound("no such organisation".to_string()));
    }
    Ok(ok_tagged(
        &req,
        &audit::entries(&mut conn, LogOf::Organisation(id), &page).await?,
    ))
}
