//! Badges (API.md, "Badges, check-in and presence"):
//! `/api/v1/conferences/{id}/delegations/{did}/members/{mid}/badge` (read, category, reissue)
//! and `/api/v1/conferences/{id}/badges/...` (the public key and the revocation list that a
//! scanner working offline needs, and `badges.html`, the badges to print).

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::auth::{Authenticated, MaybeCaller};
use crate::domain::badge::{parse_badge_patch, parse_nothing};
use crate::domain::input::Errors;
use crate::error::ApiError;
use crate::export::badges as printed;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{ok, ok_tagged, printable};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::badges;

/// `GET .../members/{member_id}/badge` (organisers, the delegation's focal points, check-in
/// staff): 200 `{"member_id", "category", "version", "status", "token", "issued_at",
/// "collected_at"}`, the badge issued the first time it is read. Errors: 401, 403/404, 404 (no
/// such member, or one that is not accepted in a delegation that counts and never had a badge).
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, member_id) = *path;
    let mut conn = state.conn().await?;
    let badge = badges::get(&mut conn, caller.0, conference_id, delegation_id, member_id).await?;
    Ok(ok_tagged(&req, &badge))
}

/// `PATCH .../badge` `{"category": "party"|"observer"|"organisation"|"vip"|"media"|
/// "secretariat"|"security"}` (organisers): 200 with the badge. Errors: 401, 403/404, 404, 422.
pub async fn update(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, member_id) = *path;
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_badge_patch(&value));
    let mut conn = state.conn().await?;
    let write = badges::set_category(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        member_id,
        input,
    );
    respond(write, ok).await
}

/// `POST .../badge/reissue` (organisers; no body, or `{}`): 200 with the badge at the next
/// `version`, `issued`; the earlier token is revoked. Errors: 401, 403/404, 404, 409 (the member is
/// not accepted in a delegation that counts), 422 (any field).
pub async fn reissue(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, member_id) = *path;
    let value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        parse_json(&req, &body)?
    };
    let input = write_input(&value, parse_nothing(&value));
    let mut conn = state.conn().await?;
    let write = badges::reissue(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        member_id,
        input,
    );
    respond(write, ok).await
}

/// `GET .../badges/key` (anyone who may read the conference): 200 the public key as a JWK
/// `{"kty": "OKP", "crv": "Ed25519", "x", "kid", "alg": "EdDSA", "use": "sig"}` (RFC 8037).
/// Errors: 404.
pub async fn key(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &badges::public_key(&mut conn, caller.0, *path).await?,
    ))
}

/// `GET .../badges/revoked` (organisers, check-in staff): 200 `{"items": [{"member_id",
/// "version"}]}`. Errors: 401, 403/404.
pub async fn revoked(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &badges::revoked(&mut conn, caller.0, *path).await?,
    ))
}

/// `GET .../badges.html?delegation=` (organisers): printable badges of every accepted member of
/// a delegation that counts (or of one delegation's), four to an A4 page, each badge issued
/// where it was missing ([`crate::export::badges`]). `Content-Type: text/html; charset=utf-8`,
/// the List of Participants' `Content-Security-Policy`, a strong `ETag`. Errors: 401,
/// 403/404, 404 (a `delegation` not of this conference), 422 (`delegation` not a UUID).
pub async fn sheet(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let delegation = query.uuid("delegation", &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let sheet = badges::sheet(&mut conn, &state.countries, caller.0, *path, delegation).await?;
    drop(conn);
    // A thousand QR codes are CPU work: off the async worker, which keeps serving others.
    let page = tokio::task::spawn_blocking(move || printed::render_html(&sheet))
        .await
        .map_err(ApiError::internal)??;
    Ok(printable(&req, page))
}
