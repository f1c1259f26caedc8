//! The `Idempotency-Key` middleware for `POST` (draft-ietf-httpapi-idempotency-key-header):
//! a retry with the same key and body replays the first response and creates nothing; the
//! same key with another body is 422; a retry while the first is still running is 409. Keys
//! are scoped to the organiser of the bearer token and kept in PostgreSQL for 24 hours, so
//! several Plenary instances share them.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::idempotency as keys;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on replayed responses.
pub const REPLAYED: &str = "idempotent-replayed";
/// Response headers stored and replayed with the body.
const KEPT_HEADERS: &[&str] = &["content-type", "location", "etag", "retry-after"];

fn error(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(e.error_response())
}

/// The organiser of a bearer token whose signature and claims verify, if any. Only the token
/// is checked (the handler itself authenticates fully, organiser included).
fn organiser_of(req: &ServiceRequest, state: &AppState) -> Option<Uuid> {
    let token = bearer_token(req.headers())?.ok()?;
    state.tokens.verify(token).ok().map(|c| c.sub)
}

fn payload_of(bytes: web::Bytes) -> actix_web::dev::Payload {
    actix_web::dev::Payload::from(bytes)
}

/// The middleware function (use with `actix_web::middleware::from_fn`).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_string));
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim().to_string(),
        _ => {
            let e = ApiError::field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            );
            return Ok(error(req, e));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(organiser) = organiser_of(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = match req.extract::<web::Bytes>().await {
        Ok(b) => b,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update([0]);
    hasher.update(req.uri().to_string());
    hasher.update([0]);
    hasher.update(
        req.headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes())
            .unwrap_or_default(),
    );
    hasher.update([0]);
    hasher.update(&body);
    let hash = hex::encode(hasher.finalize());
    req.set_payload(payload_of(body));

    let claimed = {
        let mut conn = match state.conn().await {
            Ok(c) => c,
            Err(e) => return Ok(error(req, e)),
        };
        match keys::claim(&mut conn, organiser, &key, &hash).await {
            Ok(true) => None,
            Ok(false) => match keys::find(&mut conn, organiser, &key).await {
                Ok(found) => Some(found),
                Err(e) => return Ok(error(req, e.into())),
            },
            // The organiser no longer exists (foreign key): let the handler answer 401.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            )) => return Ok(next.call(req).await?.map_into_boxed_body()),
            Err(e) => return Ok(error(req, e.into())),
        }
    };
    match claimed {
        None => {}
        Some(None) => {
            let e =
                ApiError::Conflict("a request with this Idempotency-Key is still running".into());
            return Ok(error(req, e));
        }
        Some(Some(record)) if record.request_hash != hash => {
            let e = ApiError::field(
                "Idempotency-Key",
                "was already used with a different request; use a new key",
            );
            return Ok(error(req, e));
        }
        Some(Some(record)) => match record.response_status {
            None => {
                let e = ApiError::Conflict(
                    "a request with this Idempotency-Key is still running; retry later".into(),
                );
                return Ok(error(req, e));
            }
            Some(status) => {
                let status = u16::try_from(status)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(StatusCode::OK);
                let mut response = HttpResponse::build(status);
                if let Some(headers) = record.response_headers.as_ref().and_then(|h| h.as_object())
                {
                    for (name, value) in headers {
                        if let (Ok(n), Some(v)) = (
                            HeaderName::from_bytes(name.as_bytes()),
                            value.as_str().and_then(|v| HeaderValue::from_str(v).ok()),
                        ) {
                            response.insert_header((n, v));
                        }
                    }
                }
                response.insert_header((REPLAYED, "true"));
                let response = response.body(record.response_body.unwrap_or_default());
                return Ok(req.into_response(response));
            }
        },
    }

    // This request owns the key: run it, then store its response.
    let res = next.call(req).await?;
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let mut conn = match state.conn().await {
        Ok(c) => c,
        Err(e) => return Ok(ServiceResponse::new(http_req, e.error_response())),
    };
    let stored = if status.is_server_error() {
        keys::release(&mut conn, organiser, &key).await
    } else {
        let mut headers = serde_json::Map::new();
        for name in KEPT_HEADERS {
            if let Some(v) = head.headers().get(*name).and_then(|v| v.to_str().ok()) {
                headers.insert(
                    (*name).to_string(),
                    serde_json::Value::String(v.to_string()),
                );
            }
        }
        keys::complete(
            &mut conn,
            organiser,
            &key,
            status.as_u16(),
            serde_json::Value::Object(headers),
            &bytes,
        )
        .await
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "storing the Idempotency-Key response");
    }
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, response))
}
