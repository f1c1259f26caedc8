//! Conditional requests (RFC 9110 §8.8.3, §13.1): strong `ETag`s computed from a resource's
//! JSON representation, and `If-Match` / `If-None-Match` checks.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

pub use crate::domain::precondition::{etag_of, IfMatch};

/// Splits an entity-tag list (`"a", W/"b"`) into its tags.
fn tags(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

impl IfMatch {
    /// Reads `If-Match` from a request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let values: Vec<&str> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return IfMatch::Absent;
        }
        let all: Vec<String> = values.iter().flat_map(|v| tags(v)).collect();
        if all.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(all)
        }
    }
}

/// A 200 (or `status`) JSON response with the representation's `ETag`; answers 304 when the
/// request's `If-None-Match` already holds that tag.
pub fn json_with_etag<T: Serialize>(
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
    value: &T,
) -> HttpResponse {
    let etag = etag_of(value);
    if status == actix_web::http::StatusCode::OK {
        let not_modified = req
            .headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(tags)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag);
        if not_modified {
            return HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .finish();
        }
    }
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag))
        .json(value)
}
