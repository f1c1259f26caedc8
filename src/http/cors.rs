//! CORS for public reads (API.md, Conventions; the Fetch standard's CORS protocol): any web
//! page may read, no page of another origin may write.
//!
//! - Every `GET`/`HEAD` answer, errors included, carries `Access-Control-Allow-Origin: *`
//!   (with or without an `Origin` header, so that shared caches may keep one copy) and
//!   `Access-Control-Expose-Headers: ETag`, so a page can send the tag back in
//!   `If-None-Match`.
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) asking for `GET`
//!   or `HEAD`, with no request headers beyond `Authorization` and `If-None-Match`, is 204
//!   with `Access-Control-Allow-Methods: GET, HEAD`, `Access-Control-Allow-Headers:
//!   authorization, if-none-match` and `Access-Control-Max-Age: 7200` (Chromium's ceiling).
//!   Any other preflight (for `POST`, `PUT`, `PATCH`, `DELETE`, or another header such as
//!   `Content-Type`) is refused with 403 problem+json `/problems/cors-refused` ([`ApiError::CorsRefused`]) and no
//!   `Access-Control-*` header, so the browser never sends the write.
//! - Answers to other methods carry no `Access-Control-Allow-Origin`; no
//!   `Access-Control-Allow-Credentials` is ever sent (no cookies are used).
//! - An `OPTIONS` that is not a preflight reaches the routes as before: 405 problem+json with
//!   `Allow`.
//!
//! [`policy`] is the `actix-cors` middleware that validates preflights; [`finish`] wraps it
//! and makes its answers the contract's (204 instead of its 200, problem+json instead of its
//! plain-text 400, the header on every read).

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::error::ApiError;

/// How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200).
pub const PREFLIGHT_MAX_AGE_SECS: usize = 7200;

/// The `actix-cors` policy: any origin (answered with `*`), `GET` and `HEAD`, the request
/// headers `Authorization` and `If-None-Match`, `ETag` exposed, no credentials. Register it
/// inside [`finish`].
pub fn policy() -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods([Method::GET, Method::HEAD])
        .allowed_headers([header::AUTHORIZATION, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG])
        .max_age(PREFLIGHT_MAX_AGE_SECS)
        .disable_vary_header()
}

/// True for a CORS preflight: `OPTIONS` with `Access-Control-Request-Method`.
fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Middleware around [`policy`]: a granted preflight becomes 204, a refused one a 403 problem,
/// every `GET`/`HEAD` answer gets `Access-Control-Allow-Origin: *` and other answers lose it.
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = is_preflight(&req);
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let mut res = next.call(req).await?.map_into_boxed_body();
    if preflight {
        let granted = res.status().is_success()
            && res
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS);
        if granted {
            *res.response_mut().status_mut() = StatusCode::NO_CONTENT;
            res = res.map_body(|_, _| BoxBody::new(()));
        } else {
            let (req, refused) = res.into_parts();
            let reason = match refused.into_body().try_into_bytes() {
                Ok(reason) if !reason.is_empty() => {
                    Some(String::from_utf8_lossy(&reason).into_owned())
                }
                _ => None,
            };
            let problem = ApiError::CorsRefused(reason).error_response();
            res = ServiceResponse::new(req, problem);
        }
        let vary = HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        );
        res.headers_mut().insert(header::VARY, vary);
        return Ok(res);
    }
    let headers = res.headers_mut();
    if read {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag"),
        );
    } else {
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    Ok(res)
}
