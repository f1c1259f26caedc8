//! `/api/v1/countries`: ISO 3166-1 reference data and each country's attendance history.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::MaybeCaller;
use crate::domain::input::Errors;
use crate::error::ApiError;
use crate::http::request::parse_query;
use crate::http::respond::ok_tagged;
use crate::state::AppState;
use crate::store::attendance::{self, Party};
use crate::store::{countries, PageRequest};

/// `GET /api/v1/countries?q=`: countries by alpha-2; `q` matches codes, names and aliases.
/// The caller is not needed, but an invalid token is still a 401, as on every read.
pub async fn list(
    req: HttpRequest,
    _caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::<String>::from_query(&query, &mut errors);
    if query.get("q").is_some_and(|q| q.chars().count() > 200) {
        errors.push("q", "must be at most 200 characters");
    }
    errors.check()?;
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &countries::list(&mut conn, query.get("q"), &page).await?,
    ))
}

/// Resolves a path segment (alpha-2, alpha-3, name or alias) to alpha-2. Errors: 404.
fn resolve(state: &AppState, code: &str) -> Result<String, ApiError> {
    state
        .countries
        .resolve(code)
        .map(str::to_string)
        .ok_or_else(|| ApiError::NotFound(format!("no country matches {:?}", code)))
}

/// `GET /api/v1/countries/{code_or_name}`: one country with its `ETag`; 304 when
/// `If-None-Match` already holds it.
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    _caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = resolve(&state, &path)?;
    let mut conn = state.conn().await?;
    let country = countries::get(&mut conn, &code)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such country".to_string()))?;
    Ok(ok_tagged(&req, &country))
}

/// `GET /api/v1/countries/{code}/attendance?from=&to=`: conferences the country took part in,
/// newest first.
pub async fn attendance(
    req: HttpRequest,
    path: web::Path<String>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = resolve(&state, &path)?;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let (from, to) = query.date_range(&mut errors);
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let rows =
        attendance::history(&mut conn, &Party::Country(code), caller.0, from, to, &page).await?;
    Ok(ok_tagged(&req, &rows))
}
