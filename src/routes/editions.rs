//! `/api/v1/conferences/{id}/participants/editions`: the numbered, frozen editions of the list
//! of participants (API.md "The official List of Participants", "Editions"; the store's notes
//! in [`crate::store::editions`]).
//!
//! - `POST .../participants/editions` `{"kind": "provisional"|"final"}` (organisers),
//! - `GET .../participants/editions` (oldest first),
//! - `GET .../participants/editions/{number}`, `.../{number}.csv` and `.../{number}.html`.
//!
//! Who may read them is who may read `/participants` (`Need::ReadParticipants`). An edition
//! holds the public list (no emails), so every reader gets the same bytes.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::domain::edition::parse_edition;
use crate::error::ApiError;
use crate::export::table;
use crate::http::params::write_input;
use crate::http::request::parse_json;
use crate::http::respond::{created_tagged, file, ok_tagged, printable};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::editions::{self, Edition, EditionRow};
use crate::store::standing;
use crate::store::StoreError;

/// The edition number of a path segment: a positive decimal integer written without sign or
/// leading zeros; anything else names no edition (404).
fn number(segment: &str) -> Result<i32, ApiError> {
    segment
        .parse::<i32>()
        .ok()
        .filter(|n| *n > 0 && n.to_string() == segment)
        .ok_or_else(|| StoreError::not_found("no such edition of the list of participants").into())
}

/// `POST .../participants/editions` (the conference's organisers): 201 with `Location` and
/// the edition ([`Edition`]), numbered one past the last. Honours `Idempotency-Key`.
/// Errors: 401, 403/404, 409 after a final edition, 422 naming `kind` or an unknown field
/// (nothing stored).
pub async fn create(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let conference_id = path.into_inner();
    let kind = write_input(&value, parse_edition(&value));
    let mut conn = state.conn().await?;
    let write = editions::create(&mut conn, caller.0, &state.countries, conference_id, kind);
    respond(write, move |edition: &Edition| {
        let location = format!(
            "/api/v1/conferences/{conference_id}/participants/editions/{}",
            edition.number
        );
        created_tagged(location, edition)
    })
    .await
}

/// `GET .../participants/editions`: `{"items": [{"number", "kind", "as_of", "statistics"}],
/// "next_cursor": null}`, every edition oldest first (by number). Errors: 404 as
/// `/participants`.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::ReadParticipants).await?;
    let items = editions::list(&mut conn, access.conference.id).await?;
    Ok(ok_tagged(
        &req,
        &serde_json::json!({"items": items, "next_cursor": null}),
    ))
}

/// The edition of the path, once the caller may read the list. Errors: 404.
async fn load(
    path: &(Uuid, String),
    caller: MaybeCaller,
    state: &AppState,
) -> Result<EditionRow, ApiError> {
    let (conference_id, segment) = path;
    let mut conn = state.conn().await?;
    standing::conference(&conn, caller.0, *conference_id, Need::ReadParticipants).await?;
    let number = number(segment)?;
    Ok(editions::get(&mut conn, *conference_id, number).await?)
}

/// `GET .../participants/editions/{number}`: the frozen body of `/participants` plus
/// `edition` ([`Edition`]), with a strong `ETag` (an edition never changes; 304 on a matching
/// `If-None-Match`). Errors: 404.
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, String)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = load(&path, caller, &state).await?;
    Ok(ok_tagged(&req, &row.edition()?))
}

/// `GET .../participants/editions/{number}.html`: the edition as the printable page of
/// `participants.html` (the same renderer, its heading naming the edition). Errors: 404.
pub async fn html(
    req: HttpRequest,
    path: web::Path<(Uuid, String)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = load(&path, caller, &state).await?;
    let page = crate::export::participants::render_html(&row.edition()?)?;
    Ok(printable(&req, page))
}

/// `GET .../participants/editions/{number}.csv`: the edition as `participants.csv` writes the
/// list (the same writer, [`table::participants_csv`], never an `email` column), with a
/// strong `ETag` of its bytes. Errors: 404.
pub async fn csv(
    req: HttpRequest,
    path: web::Path<(Uuid, String)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = load(&path, caller, &state).await?;
    let body = table::participants_csv(row.delegations()?, false)?;
    Ok(file(
        &req,
        table::CONTENT_TYPE,
        format!(
            "participants-{}-edition-{}.csv",
            row.conference_id, row.number
        ),
        body,
    ))
}
