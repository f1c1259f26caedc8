//! Errors as pages: under `/portal/`, an answer that would leave as problem+json (the API's
//! error format: a body over its limit refused before any handler ran, the database
//! unavailable, an unknown address, a method the address does not take) is sent as an HTML
//! page for people instead, with the same status and `Retry-After`, and the portal's
//! headers. Register [`middleware`] outside every layer that answers errors.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use serde_json::{json, Value};

use super::view::{self, text};

/// Whether `path` is one of the portal's.
fn is_portal(path: &str) -> bool {
    path == "/portal" || path.starts_with("/portal/")
}

/// The middleware function (use with `actix_web::middleware::from_fn`).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let portal = is_portal(req.path());
    let res = next.call(req).await?;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if !portal || !is_problem {
        return Ok(res.map_into_boxed_body());
    }
    let status = res.status();
    let kept: Vec<_> = [header::RETRY_AFTER, header::CONNECTION]
        .into_iter()
        .filter_map(|name| res.headers().get(&name).map(|v| (name, v.clone())))
        .collect();
    let (http_req, response) = res.into_parts();
    let body = to_bytes(response.into_body()).await.unwrap_or_default();
    let detail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let (title, message) = match status.as_u16() {
        404 | 405 => ("not_found_title", text("not_found_message")),
        408 => ("refused_title", text("timeout_message")),
        413 => ("too_large_title", text("too_large_message")),
        503 => ("unavailable_title", text("unavailable_message")),
        _ => ("refused_title", detail),
    };
    let page = view::page(
        status,
        "notice.html",
        json!({"title": text(title), "message": message}),
        Vec::new(),
    );
    let mut page = match page {
        Ok(page) => page,
        Err(e) => actix_web::ResponseError::error_response(&e),
    };
    for (name, value) in kept {
        page.headers_mut().insert(name, value);
    }
    Ok(ServiceResponse::new(http_req, page))
}
