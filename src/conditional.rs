//! Conditional requests (RFC 9110 §8.8.3, §13.1): strong `ETag`s computed from a resource's
//! JSON representation (or a file's bytes; computed in [`crate::domain::precondition`]), the
//! one parser of entity-tag lists, reading `If-Match`, and answering `If-None-Match`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;

pub use crate::domain::precondition::{etag_of, etag_of_bytes, IfMatch};

/// The entity tags of entity-tag list header values (`"a", W/"b"`, possibly several header
/// lines), each trimmed, empty list members dropped, weak ones kept with their `W/`.
pub fn entity_tags<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .flat_map(|raw| raw.split(','))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The values of every `name` header line of a request that are visible ASCII.
pub fn header_values<'r>(req: &'r HttpRequest, name: &header::HeaderName) -> Vec<&'r str> {
    req.headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// Whether the request's `If-None-Match` holds `etag` or `*` (weak comparison, RFC 9110
/// §13.1.2: `W/"x"` matches `"x"`). `false` without the header.
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    none_match_in(header_values(req, &header::IF_NONE_MATCH), etag)
}

/// Whether `If-None-Match` header values (`values`) hold `etag` or `*`, compared as
/// [`none_match`] does.
pub fn none_match_in<'a>(values: impl IntoIterator<Item = &'a str>, etag: &str) -> bool {
    entity_tags(values)
        .iter()
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

impl IfMatch {
    /// Reads `If-Match` from a request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let values = header_values(req, &header::IF_MATCH);
        if values.is_empty() {
            return IfMatch::Absent;
        }
        let all = entity_tags(values);
        if all.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(all)
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
