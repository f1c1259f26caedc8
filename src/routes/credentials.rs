//! `/api/v1/conferences/{id}/delegations/{delegation_id}/credentials`: a delegation's letter
//! of credentials (a PDF) and its review (API.md "Accreditation"); and
//! `/api/v1/conferences/{id}/credentials`, the secretariat's queue of every delegation's.

use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::input::{check_pdf, Errors, FieldError, Invalid, Obj};
use crate::domain::vocab::CredentialsStatus;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query, MAX_DOCUMENT_BYTES};
use crate::http::respond::{ok_tagged, pdf_attachment};
use crate::state::AppState;
use crate::store::credentials;
use crate::store::{standing, PageRequest};

/// The media types an upload may be sent as: `application/pdf`, or `application/octet-stream`
/// (what clients generated from the spec send for a binary body). Either way the bytes must
/// parse as a PDF ([`check_pdf`]).
const UPLOAD_MEDIA_TYPES: &str = "application/pdf or application/octet-stream";

/// Whether the request says its body is `application/pdf` or `application/octet-stream`
/// (parameters ignored).
fn is_pdf_upload(req: &HttpRequest) -> bool {
    req.mime_type().ok().flatten().is_some_and(|m| {
        let essence = m.essence_str();
        essence == actix_web::mime::APPLICATION_PDF.essence_str()
            || essence == actix_web::mime::APPLICATION_OCTET_STREAM.essence_str()
    })
}

/// The `Content-Type` of the document: `application/octet-stream` when the request's `Accept`
/// names it and not `application/pdf` (a generic binary download), else `application/pdf`.
fn document_media_type(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect::<Vec<_>>();
    if accept.iter().any(|r| r == "application/octet-stream")
        && !accept.iter().any(|r| r == "application/pdf")
    {
        "application/octet-stream"
    } else {
        "application/pdf"
    }
}

/// Reads the whole body, refusing it with 413 as soon as it passes `max` bytes (before the
/// rest is read). Errors: 413; 400 for a broken stream.
async fn read_at_most(mut payload: web::Payload, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `PUT .../credentials` with `Content-Type: application/pdf` (or `application/octet-stream`)
/// (organisers and the delegation's focal points): stores the PDF and sets the status to
/// `submitted`; 200 with the credentials. Honours `If-Match`. Errors: 401, 403/404, 413 (over
/// 5 MiB), 415 (another content type), 422 (not a PDF: [`check_pdf`]).
pub async fn put(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    payload: web::Payload,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    {
        let mut conn = state.conn().await?;
        credentials::may_submit(&mut conn, caller.0, conference_id, delegation_id).await?;
    }
    if !is_pdf_upload(&req) {
        return Err(ApiError::UnsupportedMediaType(UPLOAD_MEDIA_TYPES));
    }
    let pdf = read_at_most(payload, MAX_DOCUMENT_BYTES).await?;
    let (pdf, checked) = web::block(move || {
        let checked = check_pdf(&pdf);
        (pdf, checked)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("checking a PDF: {e}")))?;
    checked.map_err(|message| ApiError::field("body", message))?;
    let mut conn = state.conn().await?;
    let saved = credentials::submit(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        &IfMatch::from_request(&req),
        &pdf,
    )
    .await?;
    Ok(ok_tagged(&req, &saved))
}

/// A connection, once the caller may read the delegation's credentials
/// ([`Need::ReadCredentials`]). Errors: 404 for everyone but the conference's organisers and
/// the delegation's focal points; 503.
async fn readable(
    state: &AppState,
    caller: MaybeCaller,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<crate::db::DbConn, ApiError> {
    let conn = state.conn().await?;
    standing::conference(
        &conn,
        caller.0,
        conference_id,
        Need::ReadCredentials(delegation_id),
    )
    .await?;
    Ok(conn)
}

/// `GET .../credentials` (organisers and the delegation's focal points): the credentials,
/// `{"status": "none", ...}` before any upload, with an `ETag`. Errors: 404 for anyone else.
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let mut conn = readable(&state, caller, conference_id, delegation_id).await?;
    let current = credentials::get(&mut conn, conference_id, delegation_id).await?;
    Ok(ok_tagged(&req, &current))
}

/// `GET /api/v1/conferences/{id}/credentials?status=&limit=&cursor=` (organisers, as the
/// members queue): the secretariat's queue of letters of credentials across every
/// delegation: 200 `{"items": [{"delegation_id", "delegation", "credentials"}],
/// "next_cursor"}`, oldest upload first, then the delegations without one (`none`) in
/// creation order ([`credentials::queue`]); `credentials` is the object of [`get`]. Errors:
/// 401, 403/404, 422 (a `status` other than [`CredentialsStatus::ALL`]; a bad cursor or limit).
pub async fn queue(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    let status = query
        .one_of("status", CredentialsStatus::ALL, &mut errors)
        .and_then(CredentialsStatus::parse);
    errors.check()?;
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &credentials::queue(&mut conn, &state.countries, caller.0, *path, status, &page).await?,
    ))
}

/// `GET .../credentials/document` (organisers and the delegation's focal points): the PDF,
/// as an attachment ([`pdf_attachment`]: `nosniff`, a CSP that lets nothing load or run);
/// `application/pdf`, or `application/octet-stream` for an `Accept` that asks for it
/// ([`document_media_type`]). Errors: 404 for anyone else, or before any upload.
pub async fn document(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let mut conn = readable(&state, caller, conference_id, delegation_id).await?;
    let pdf = credentials::document(&mut conn, conference_id, delegation_id).await?;
    Ok(pdf_attachment(
        document_media_type(&req),
        &format!("credentials-{delegation_id}.pdf"),
        pdf,
    ))
}

/// `PATCH .../credentials` `{"status": "verified"|"provisional"|"rejected", "note"}`
/// (organisers only): the review; honours `If-Match`. Errors: 401, 403/404, 409 before any
/// upload, 412, 422.
pub async fn review(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let mut parsed = (None, None);
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let status = o
            .one_of(
                "status",
                &["verified", "provisional", "rejected"],
                &mut errors,
            )
            .filter_map(CredentialsStatus::parse);
        parsed = (
            o.required("status", status, &mut errors),
            o.paragraphs("note", 2000, &mut errors).patch(),
        );
        o.finish(&mut errors);
    }
    let parsed = errors.finish(parsed).and_then(|parsed| match parsed {
        (Some(status), note) => Ok((status, note)),
        _ => Err(Invalid(vec![FieldError::new(
            "",
            "validated fields missing",
        )])),
    });
    let input = write_input(&value, parsed);
    let mut conn = state.conn().await?;
    let saved = credentials::review(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        &IfMatch::from_request(&req),
        input,
    )
    .await?;
    Ok(ok_tagged(&req, &saved))
}
