//! Reading a request for the domain's parsers: the JSON body (its media type, then its
//! syntax) and the query string. What the values mean is [`crate::domain`]'s.

use actix_web::http::header;
use actix_web::HttpRequest;
use serde_json::Value;

use crate::domain::input::Query;
use crate::error::ApiError;

/// Checks the content type and parses a JSON body.
///
/// Errors: 415 when the body is not `application/json` (or `application/*+json`), 400 when it
/// is not well-formed JSON.
pub fn parse_json(req: &HttpRequest, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))
}

/// Decodes the query string into a [`Query`]. Errors: 400 when it is malformed, 422 naming a
/// parameter whose value holds a control character ([`Query::from_pairs`]).
pub fn parse_query(req: &HttpRequest) -> Result<Query, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
    Ok(Query::from_pairs(pairs)?)
}
