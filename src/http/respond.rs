//! The success responses of the JSON routes: 200, 201 (with `Location`), 204, and the tagged
//! forms that carry the representation's strong `ETag` (see [`crate::conditional`]); and the
//! one form of a file download (CSV, iCalendar) with its `ETag`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::conditional::{etag_of, etag_of_bytes, json_with_etag, tagged};

/// 200 with `body` as JSON.
pub fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// 201 with a `Location` header (`location`, an absolute path) and `body` as JSON.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// 200 with a single resource as JSON and its `ETag`; 304 (no body, same `ETag`) when the
/// request's `If-None-Match` already holds that tag.
pub fn ok_tagged<T: Serialize>(req: &HttpRequest, body: &T) -> HttpResponse {
    json_with_etag(req, StatusCode::OK, body)
}

/// 201 with a `Location` header (`location`, an absolute path), the created resource as JSON
/// and its `ETag`.
pub fn created_tagged<T: Serialize>(location: String, body: &T) -> HttpResponse {
    tagged(None, StatusCode::CREATED, etag_of(body), |res| {
        res.insert_header((header::LOCATION, location)).json(body)
    })
}

/// 204, no body.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// A 200 printable HTML page (the list of participants, [`crate::export::participants`]):
/// `text/html; charset=utf-8`, its strict `Content-Security-Policy` (no network access),
/// `nosniff`, and a strong `ETag` of its bytes (304 on a matching `If-None-Match`).
pub fn printable(req: &HttpRequest, page: String) -> HttpResponse {
    use crate::export::participants as page_of;
    let etag = etag_of_bytes(page.as_bytes());
    tagged(Some(req), StatusCode::OK, etag, |res| {
        res.insert_header((header::CONTENT_TYPE, page_of::CONTENT_TYPE))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                page_of::CONTENT_SECURITY_POLICY,
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(page)
    })
}

/// The `Content-Security-Policy` of a stored document (a letter of credentials): nothing
/// loads, nothing runs, even when a browser is made to render it as something other than a
/// PDF.
pub const DOCUMENT_CSP: &str = "default-src 'none'; sandbox";

/// A 200 download of a stored document (the letter of credentials, for the API and the
/// portal alike): `content_type`, `Content-Disposition: attachment` with `filename`, never
/// cached (`private, no-store`), `Vary: Accept`, `X-Content-Type-Options: nosniff` and
/// [`DOCUMENT_CSP`].
pub fn pdf_attachment(content_type: &str, filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .append_header((header::VARY, "Accept"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCUMENT_CSP))
        .body(body)
}

/// A 200 file response with `content_type`, a download name and a strong `ETag` (SHA-256 of
/// the bytes, [`etag_of_bytes`]); 304 when `If-None-Match` already holds that
/// tag, so that calendar and spreadsheet clients can poll cheaply.
pub fn file(
    req: &HttpRequest,
    content_type: &str,
    filename: String,
    body: impl Into<Vec<u8>>,
) -> HttpResponse {
    let body = body.into();
    let etag = etag_of_bytes(&body);
    tagged(Some(req), StatusCode::OK, etag, |res| {
        res.insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(body)
    })
}
