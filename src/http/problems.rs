//! The error-rendering layer: every error answer leaves as problem+json, actix's own ones
//! (no route, a body over the limit, an extractor's failure) included. What each says is
//! [`crate::error`]'s table.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::ResponseError;

use crate::error::{ApiError, PROBLEM_JSON};

/// Rewrites every error response that is not already problem+json (actix's own 404, 405, 413
/// and extractor errors) into an RFC 9457 body with the same status, as
/// [`ApiError::answered_by_actix`] words it. Register it with
/// `ErrorHandlers::new().default_handler(problemize)`.
pub fn problemize<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    // The portal's own error pages (HTML, for people) stay as they are.
    let is_portal_page = res.request().path().starts_with("/portal/")
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if is_problem || is_portal_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let allow = res
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok());
    let limit = super::request::body_limit(res.request().method(), res.request().path());
    let problem = ApiError::answered_by_actix(res.status(), allow, limit);
    let (req, _) = res.into_parts();
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, problem.error_response()).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
