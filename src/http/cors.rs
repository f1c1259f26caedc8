//! CORS (API.md, Conventions; the Fetch standard's CORS protocol): any web page may read;
//! only pages of the origins listed in `PLENARY_CORS_ORIGINS` ([`CorsOrigins`]) may write.
//!
//! - Every `GET`/`HEAD` answer, errors included, carries `Access-Control-Allow-Origin: *`
//!   (with or without an `Origin` header, listed or not, so that shared caches may keep one
//!   copy) and `Access-Control-Expose-Headers: ETag`, so a page can send the tag back in
//!   `If-None-Match`.
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an origin
//!   that is not listed, asking for `GET` or `HEAD` with no request headers beyond
//!   `Authorization` and `If-None-Match`, is 204 with `Access-Control-Allow-Origin: *`,
//!   `Access-Control-Allow-Methods: GET, HEAD`, `Access-Control-Allow-Headers: authorization,
//!   if-none-match` and `Access-Control-Max-Age: 7200` (Chromium's ceiling). Any other
//!   preflight from it (for `POST`, `PUT`, `PATCH`, `DELETE`, or another header such as
//!   `Content-Type`) is refused with 403 problem+json `/problems/cors-refused`
//!   ([`ApiError::CorsRefused`]) and no `Access-Control-*` header, so the browser never sends
//!   the write.
//! - A preflight from a listed origin ([`WRITE_METHODS`], [`WRITE_HEADERS`]) is 204 with
//!   `Access-Control-Allow-Origin: <that origin>`, `Access-Control-Allow-Methods: GET, HEAD,
//!   POST, PUT, PATCH, DELETE`, `Access-Control-Allow-Headers: authorization, content-type,
//!   if-match, idempotency-key, if-none-match` and the same max age; another method or header
//!   is the same 403. Every preflight answer has `Vary: Origin, Access-Control-Request-Method,
//!   Access-Control-Request-Headers`.
//! - Answers to other methods carry `Access-Control-Allow-Origin: <origin>`, `Vary: Origin`
//!   and `Access-Control-Expose-Headers: ETag, Location` when the request's `Origin` is
//!   listed (errors included, so the page can read the problem), and no CORS header
//!   otherwise. No `Access-Control-Allow-Credentials` is ever sent (no cookies are used).
//! - An `OPTIONS` that is not a preflight reaches the routes as before: 405 problem+json with
//!   `Allow`.
//!
//! [`policy`] is the `actix-cors` middleware that validates the preflights of origins that
//! are not listed; [`finish`] wraps it, answers the preflights of listed origins itself, and
//! makes every answer the contract's (204 instead of `actix-cors`' 200, problem+json instead
//! of its plain-text 400, the header on every read, the listed origin on its writes).

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};

use crate::config::CorsOrigins;
use crate::error::ApiError;

/// How long a browser may cache a preflight answer, in seconds (Chromium caps it at 7200).
pub const PREFLIGHT_MAX_AGE_SECS: usize = 7200;

/// The methods a preflight from a listed origin may ask for, as `Access-Control-Allow-Methods`
/// sends them.
pub const WRITE_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// The request headers (lower case) a preflight from a listed origin may ask for, as
/// `Access-Control-Allow-Headers` sends them.
pub const WRITE_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "if-match",
    "idempotency-key",
    "if-none-match",
];

/// `Vary` of every preflight answer: it depends on all three request headers.
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The `actix-cors` policy for origins that are not listed: any origin (answered with `*`),
/// `GET` and `HEAD`, the request headers `Authorization` and `If-None-Match`, `ETag` exposed,
/// no credentials. Register it inside [`finish`], which answers listed origins' preflights
/// before it.
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

/// The request's `Origin` when it is one of the listed origins ([`CorsOrigins`], read from
/// the app data `startup` registers; none registered: none listed).
fn listed_origin(req: &ServiceRequest) -> Option<HeaderValue> {
    let origins = req.app_data::<web::Data<CorsOrigins>>()?;
    let origin = req.headers().get(header::ORIGIN)?;
    origin
        .to_str()
        .ok()
        .filter(|o| origins.allows(o))
        .map(|_| origin.clone())
}

/// The answer to a preflight from a listed origin: 204 granting [`WRITE_METHODS`] and
/// [`WRITE_HEADERS`] to `origin`, or 403 `/problems/cors-refused` naming the method or header
/// asked for that is neither.
fn listed_preflight(req: &ServiceRequest, origin: HeaderValue) -> HttpResponse {
    let headers = req.headers();
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok())
        .unwrap_or("");
    let asked: Vec<String> = headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let refusal = if !WRITE_METHODS.contains(&method) {
        Some(format!("the method {method:?} is not allowed"))
    } else {
        asked
            .iter()
            .find(|h| !WRITE_HEADERS.contains(&h.as_str()))
            .map(|h| format!("the request header {h:?} is not allowed"))
    };
    let mut res = match refusal {
        Some(reason) => ApiError::CorsRefused(Some(reason)).error_response(),
        None => {
            let mut granted = HttpResponse::NoContent();
            granted
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    WRITE_METHODS.join(", "),
                ))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    WRITE_HEADERS.join(", "),
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS));
            granted.finish()
        }
    };
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
    res
}

/// Middleware around [`policy`]: a preflight from a listed origin is answered here
/// ([`listed_preflight`]); for the others a granted preflight becomes 204 and a refused one a
/// 403 problem; every `GET`/`HEAD` answer gets `Access-Control-Allow-Origin: *`, answers to
/// other methods get the listed origin or lose the header.
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = is_preflight(&req);
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let listed = listed_origin(&req);
    if preflight {
        if let Some(origin) = listed {
            let res = listed_preflight(&req, origin);
            return Ok(req.into_response(res));
        }
    }
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
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
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
    } else if let Some(origin) = listed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Location"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    } else {
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    Ok(res)
}
