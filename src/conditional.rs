//! Conditional requests (RFC 9110 §8.8.3, §13.1): strong `ETag`s computed from a resource's
//! JSON representation, and `If-Match` / `If-None-Match` checks.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The strong entity tag of a representation: `"` + 32 hex digits of SHA-256 of its JSON + `"`.
pub fn etag_of<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// The `If-Match` header of a request: absent, `*`, or a list of entity tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: the write is unconditional.
    #[default]
    Absent,
    /// `If-Match: *`: any current representation matches.
    Any,
    /// The listed tags, as sent (weak ones never match: strong comparison).
    Tags(Vec<String>),
}

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

    /// Checks the current representation. Errors: 412 when `If-Match` lists tags and none
    /// equals the current strong tag.
    pub fn check<T: Serialize>(&self, current: &T) -> Result<(), ApiError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::Tags(list) => {
                let current = etag_of(current);
                if list.iter().any(|t| !t.starts_with("W/") && *t == current) {
                    Ok(())
                } else {
                    Err(ApiError::PreconditionFailed(
                        "the resource has changed since the If-Match tag was issued".to_string(),
                    ))
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tags_never_match_and_strong_ones_do() {
        let value = serde_json::json!({"a": 1});
        let tag = etag_of(&value);
        assert!(IfMatch::Tags(vec![tag.clone()]).check(&value).is_ok());
        assert!(IfMatch::Tags(vec![format!("W/{tag}")])
            .check(&value)
            .is_err());
        assert!(IfMatch::Tags(vec!["\"other\"".into()])
            .check(&value)
            .is_err());
        assert!(IfMatch::Any.check(&value).is_ok());
    }
}
