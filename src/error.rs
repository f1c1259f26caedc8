//! The application error type and its RFC 9457 (problem details) rendering: the one table
//! of every error the server sends, its status, problem type, title, detail and headers.
//!
//! Every error the API returns is `application/problem+json`:
//! `{"type", "title", "status", "detail"}` and, for validation errors, `"errors": [{"field",
//! "message"}]` naming every invalid field at once. `type` is a relative URI reference
//! `/problems/<slug>` (RFC 9457 §3.1.1). Internal errors are logged with their cause and shown
//! as a bare 500 that never contains SQL, diesel or panic text.
//!
//! Which layer returns which error (only this module and the HTTP layer know HTTP):
//!
//! | layer | returns | becomes |
//! |---|---|---|
//! | [`crate::domain`] parsers | [`Invalid`]: field errors | 422 `validation-error` |
//! | [`crate::access`], the pure rule | [`Refusal`](crate::access::Refusal) | 401 `unauthorized` (with the bearer challenge), 403 `forbidden`, 404 `not-found` |
//! | [`crate::store`] | [`StoreError`](crate::store::StoreError) | 422, 404, 409 (`conflict`, `nominations-closed`, `quota-exceeded`), 412, refusals, 503, 500 |
//! | [`crate::http::request`] | `ApiError` | 415 `unsupported-media-type`, 400 `malformed-json`, 400 `bad-request` |
//! | [`crate::auth`] | `ApiError` | 401 `unauthorized`, 429 `too-many-requests` |
//! | handlers ([`crate::routes`]) | `ApiError` | what the layers below return; 413 and 415 of credentials |
//! | the body budget ([`crate::http::body_budget`]) | [`ApiError::BodyBudgetExceeded`], [`ApiError::PayloadTooLarge`] | 503 `body-budget-exceeded` with `Retry-After`, 413 `payload-too-large` (a body over its route's limit); `Connection: close`, the body unread |
//! | the route table ([`crate::routes::configure`]) | [`ApiError::MethodNotAllowed`] | 405 `method-not-allowed` with `Allow` |
//! | the body deadline ([`crate::http::deadline`]) | [`ApiError::RequestTimeout`] | 408 `request-timeout`, `Connection: close` |
//! | CORS ([`crate::http::cors`]) | [`ApiError::CorsRefused`] | 403 `cors-refused` |
//! | actix itself (no route, a body over the limit, a failed extractor), rewritten by [`crate::http::problems`] | [`ApiError::answered_by_actix`] | 404, 405, 413, 415, 400, 500 |

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

pub use crate::domain::input::FieldError;
use crate::domain::input::Invalid;

/// A size in bytes as API.md writes it: `16 KiB`, `5 MiB`, else bytes.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Everything a request can fail with. Each variant maps to one HTTP status and problem type.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: well-formed input with invalid or unknown fields (all of them listed).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 400: the body is not well-formed JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// 400: any other malformed request.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 415: the body is not of the media type the route takes (`application/json`, or
    /// `application/pdf` for credentials).
    #[error("unsupported media type, expected {0}")]
    UnsupportedMediaType(&'static str),
    /// 413: the body is larger than the route takes: its limit in bytes
    /// ([`crate::http::request::body_limit`]), which the detail names.
    #[error("payload too large: over {0} bytes")]
    PayloadTooLarge(usize),
    /// 401: missing or invalid bearer token, or wrong credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: authenticated, but without the right to do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 403 `/problems/cors-refused`: a CORS preflight for anything but a read; the reason
    /// `actix-cors` gave, if any.
    #[error("CORS preflight refused")]
    CorsRefused(Option<String>),
    /// 405 with `Allow`: the path exists, not with this method; the methods it has.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(String),
    /// 408 with `Connection: close`: the request body did not arrive within this time.
    #[error("request body timed out")]
    RequestTimeout(std::time::Duration),
    /// 404: no such resource, or one the caller may not see.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state (duplicates, dependants).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 409 `/problems/nominations-closed`: a focal point's write to members after the
    /// conference's `nominations_close_at`.
    #[error("nominations closed")]
    NominationsClosed,
    /// 409 `/problems/quota-exceeded`: the write would pass the quota the message names.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// 412: `If-Match` does not match the current representation.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 429: too many failed logins; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// 503: the database cannot be reached right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 503 `/problems/body-budget-exceeded` with `Retry-After` and `Connection: close`: the
    /// request bodies in flight, in total or (`of_address`) from the caller's address, hold
    /// `held` bytes of their `budget`, which this body would pass
    /// ([`crate::http::body_budget`]); refused before the body is read.
    #[error("body budget exceeded: {held} of {budget} bytes held")]
    BodyBudgetExceeded {
        /// The caller's address's budget (else the server's, all addresses together).
        of_address: bool,
        /// The bytes reserved now by the bodies in flight it counts.
        held: usize,
        /// That budget, in bytes.
        budget: usize,
    },
    /// An error answer with no problem type of its own, with its status as actix chose it
    /// ([`ApiError::answered_by_actix`]): a 5xx is shown as `internal-error`, anything else
    /// as `bad-request`.
    #[error("error status {0}")]
    Unmapped(StatusCode),
    /// 500: a bug or an unexpected failure; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 for a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// A 500 whose cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The problem for an error answer that actix made itself, without a body of ours (no
    /// route, a body over the limit, an extractor's failure), by its status; `allow` is the
    /// answer's `Allow` header, `body_limit` the request's body limit in bytes (for a 413).
    pub fn answered_by_actix(status: StatusCode, allow: Option<&str>, body_limit: usize) -> Self {
        match status {
            StatusCode::NOT_FOUND => ApiError::NotFound("no such route or resource".to_string()),
            StatusCode::METHOD_NOT_ALLOWED => {
                ApiError::MethodNotAllowed(allow.unwrap_or_default().to_string())
            }
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(body_limit),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::UnsupportedMediaType("application/json")
            }
            other => ApiError::Unmapped(other),
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("validation-error", "Invalid request"),
            ApiError::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::CorsRefused(_) => ("cors-refused", "CORS preflight refused"),
            ApiError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            ApiError::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::NominationsClosed => ("nominations-closed", "Nominations closed"),
            ApiError::QuotaExceeded(_) => ("quota-exceeded", "Quota exceeded"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            ApiError::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("service-unavailable", "Service unavailable"),
            ApiError::BodyBudgetExceeded { .. } => {
                ("body-budget-exceeded", "Too many request bodies in flight")
            }
            ApiError::Unmapped(s) if s.is_server_error() => {
                ("internal-error", "Internal server error")
            }
            ApiError::Unmapped(_) => ("bad-request", "Bad request"),
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    /// The problem's `detail`: what went wrong, in words for the person who sent the request.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors
                    .iter()
                    .take(MAX_LISTED_ERRORS)
                    .map(|e| e.field.as_str())
                    .collect();
                match errors.len().saturating_sub(MAX_LISTED_ERRORS) {
                    0 => format!("invalid fields: {}", fields.join(", ")),
                    more => format!("invalid fields: {} and {more} more", fields.join(", ")),
                }
            }
            ApiError::MalformedJson(m) => format!("the body is not valid JSON: {m}"),
            ApiError::UnsupportedMediaType(expected) => {
                format!("the request body must be {expected}")
            }
            ApiError::PayloadTooLarge(limit) => {
                format!("the request body may have at most {} here", size(*limit))
            }
            ApiError::BodyBudgetExceeded {
                of_address: true,
                held,
                budget,
            } => format!(
                "request bodies in flight from your address hold {} of its {}; retry shortly",
                size(*held),
                size(*budget)
            ),
            ApiError::BodyBudgetExceeded {
                of_address: false,
                held,
                budget,
            } => format!(
                "request bodies in flight hold {} of the server's {}; retry shortly",
                size(*held),
                size(*budget)
            ),
            ApiError::CorsRefused(reason) => {
                let offered = "only GET and HEAD with the headers Authorization and \
                               If-None-Match are offered to other origins";
                match reason {
                    Some(reason) => format!("{offered} ({reason})"),
                    None => offered.to_string(),
                }
            }
            ApiError::MethodNotAllowed(allow) if allow.is_empty() => {
                "this route does not accept this method".to_string()
            }
            ApiError::MethodNotAllowed(allow) => format!("this route accepts {allow}"),
            ApiError::RequestTimeout(limit) => format!(
                "the request body was not received within {} s",
                limit.as_secs_f64()
            ),
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::QuotaExceeded(m)
            | ApiError::PreconditionFailed(m) => m.clone(),
            ApiError::NominationsClosed => {
                "nominations for this conference are closed; only its organisers may change members now"
                    .to_string()
            }
            ApiError::TooManyRequests(secs) => {
                format!("too many failed attempts; retry in {secs} seconds")
            }
            ApiError::Unavailable(_) => {
                "the database is unavailable; try again shortly".to_string()
            }
            ApiError::Unmapped(s) if !s.is_server_error() => "the request is malformed".to_string(),
            ApiError::Internal(_) | ApiError::Unmapped(_) => {
                "an unexpected error occurred".to_string()
            }
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// `/problems/<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// The invalid fields (validation errors only), at most [`MAX_LISTED_ERRORS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// How many invalid fields `errors` leaves out; only when it leaves some out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_omitted: Option<usize>,
}

/// The most field errors a 422 lists (`errors`); the rest are only counted
/// (`errors_omitted`), so that a body of many bad fields cannot make a much larger answer.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Builds a problem+json response for `status` with a problem type `slug`; every 401 carries
/// the bearer challenge (`WWW-Authenticate: Bearer`), every 503 `Retry-After: 1`.
fn problem_response(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: String,
    errors: Option<&[FieldError]>,
) -> HttpResponse {
    let listed = errors.map(|all| all[..all.len().min(MAX_LISTED_ERRORS)].to_vec());
    let omitted = errors
        .map(|all| all.len().saturating_sub(MAX_LISTED_ERRORS))
        .filter(|n| *n > 0);
    let body = Problem {
        kind: format!("/problems/{slug}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: listed,
        errors_omitted: omitted,
    };
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        builder.insert_header((header::RETRY_AFTER, "1"));
    }
    builder.body(serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_string()))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::CorsRefused(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::NominationsClosed | ApiError::QuotaExceeded(_) => {
                StatusCode::CONFLICT
            }
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::BodyBudgetExceeded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Unmapped(status) => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let (slug, title) = self.slug_and_title();
        let errors = match self {
            ApiError::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let mut response = problem_response(self.status_code(), slug, title, self.detail(), errors);
        match self {
            ApiError::TooManyRequests(secs) => {
                if let Ok(value) = header::HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            ApiError::MethodNotAllowed(allow) if !allow.is_empty() => {
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
            }
            ApiError::RequestTimeout(_) | ApiError::BodyBudgetExceeded { .. } => response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close),
            _ => {}
        }
        response
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &err {
            Error::NotFound => ApiError::NotFound("no such resource".to_string()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict(conflict_message(info.constraint_name()))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                ApiError::Conflict(format!(
                    "the change refers to, or is referred to by, another resource ({})",
                    info.constraint_name().unwrap_or("foreign key")
                ))
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Unavailable(err.to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("terminating connection")
                    || info.message().contains("connection")
                        && info.message().contains("closed") =>
            {
                ApiError::Unavailable(err.to_string())
            }
            _ => ApiError::Internal(err.to_string()),
        }
    }
}

/// The message of a 409 caused by a unique constraint, by constraint name.
fn conflict_message(constraint: Option<&str>) -> String {
    match constraint {
        Some("delegations_conference_country_key") => {
            "this conference already has a delegation of that country".to_string()
        }
        Some("delegations_conference_organisation_key") => {
            "this conference already has a delegation of that organisation".to_string()
        }
        Some("organisations_name_key" | "organisations_name_skeleton_key") => {
            "an organisation with that name already exists".to_string()
        }
        Some("organisers_email_key") => "an organiser with that email already exists".to_string(),
        Some("conference_organisers_pkey") => {
            "that organiser already organises this conference".to_string()
        }
        Some("delegation_members_one_head") => {
            "this delegation already has a head; unset it first".to_string()
        }
        Some("participant_editions_conference_number_key" | "participant_editions_one_final") => {
            "another edition of the list of participants was made at the same moment; try again"
                .to_string()
        }
        Some(other) => format!("the change would duplicate an existing resource ({other})"),
        None => "the change would duplicate an existing resource".to_string(),
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ApiError::Unavailable(err.to_string())
    }
}

/// Field errors of the domain's parsers: 422 naming every invalid field.
impl From<Invalid> for ApiError {
    fn from(Invalid(errors): Invalid) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<crate::access::Refusal> for ApiError {
    fn from(refusal: crate::access::Refusal) -> Self {
        use crate::access::RefusalKind;
        let message = refusal.message().to_string();
        match refusal.kind() {
            RefusalKind::Unauthenticated => ApiError::Unauthorized(message),
            RefusalKind::Forbidden => ApiError::Forbidden(message),
            RefusalKind::Hidden => ApiError::NotFound(message),
        }
    }
}

/// The store's errors in HTTP terms: 422, 404, 409, 412, 401/403/404 (refusals), 503, and the
/// database errors as [`From<diesel::result::Error>`] maps them.
impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::Invalid(errors) => ApiError::Validation(errors),
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::NominationsClosed => ApiError::NominationsClosed,
            StoreError::QuotaExceeded(m) => ApiError::QuotaExceeded(m),
            StoreError::Stale => ApiError::PreconditionFailed(
                "the resource has changed since the If-Match tag was issued".to_string(),
            ),
            StoreError::Refused(r) => r.into(),
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::Database(e) => e.into(),
        }
    }
}
