//! Conditional requests (RFC 9110 §8.8.3, §13.1): strong `ETag`s computed from a resource's
//! JSON representation (or a file's bytes; computed in [`crate::domain::precondition`]), the
//! reading `If-Match` and answering `If-None-Match`, both parsed by actix's typed headers.

use actix_web::http::header::{self, Header};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;

pub use crate::domain::precondition::{etag_of, etag_of_bytes, IfMatch};

/// A request's `If-None-Match`, parsed by actix's typed header (RFC 9110 §13.1.2); `None`
/// without the header or when it does not parse (then it never matches, as if absent).
pub fn if_none_match(req: &impl HttpMessage) -> Option<header::IfNoneMatch> {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return None;
    }
    header::IfNoneMatch::parse(req).ok()
}

/// Whether the request's `If-None-Match` holds `etag` or `*` (weak comparison, RFC 9110
/// §13.1.2: `W/"x"` matches `"x"`). `false` without the header.
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    none_match_in(if_none_match(req).as_ref(), etag)
}

/// Whether a parsed `If-None-Match` (`None`: none) holds `etag` (a quoted entity tag, as
/// [`etag_of`] makes) or is `*`, compared as [`none_match`] does.
pub fn none_match_in(if_none_match: Option<&header::IfNoneMatch>, etag: &str) -> bool {
    match if_none_match {
        None => false,
        Some(header::IfNoneMatch::Any) => true,
        Some(header::IfNoneMatch::Items(tags)) => etag
            .parse::<header::EntityTag>()
            .is_ok_and(|ours| tags.iter().any(|t| t.weak_eq(&ours))),
    }
}

impl IfMatch {
    /// Reads `If-Match` from a request with actix's typed header. A header that does not
    /// parse as `*` or a list of entity tags matches nothing (412), as a list of tags none of
    /// which is current.
    pub fn from_request(req: &HttpRequest) -> Self {
        if !req.headers().contains_key(header::IF_MATCH) {
            return IfMatch::Absent;
        }
        match header::IfMatch::parse(req) {
            Ok(header::IfMatch::Any) => IfMatch::Any,
            Ok(header::IfMatch::Items(tags)) => {
                IfMatch::Tags(tags.iter().map(ToString::to_string).collect())
            }
            Err(_) => IfMatch::Tags(Vec::new()),
        }
    }
}

/// A `status` response carrying the strong tag `etag`, its headers and body added by `build`;
/// when `status` is 200 and `req`'s `If-None-Match` holds the tag, a 304 with the `ETag` and
/// no body instead (`build` is not called). The one place that sets `ETag`.
pub fn tagged(
    req: Option<&HttpRequest>,
    status: StatusCode,
    etag: String,
    build: impl FnOnce(&mut HttpResponseBuilder) -> HttpResponse,
) -> HttpResponse {
    if status == StatusCode::OK && req.is_some_and(|req| none_match(req, &etag)) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    build(HttpResponse::build(status).insert_header((header::ETAG, etag)))
}

/// A `status` JSON response of `value` with its `ETag` ([`etag_of`]); for 200, a 304 when the
/// request's `If-None-Match` already holds that tag (see [`tagged`]).
pub fn json_with_etag<T: Serialize>(
    req: &HttpRequest,
    status: StatusCode,
    value: &T,
) -> HttpResponse {
    tagged(Some(req), status, etag_of(value), |res| res.json(value))
}
