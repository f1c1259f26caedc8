//! `/api/v1/conferences/{id}/webhooks`: a conference's organisers register, list and delete
//! its webhooks and read the state of their deliveries (API.md, "Notifications: e-mail and
//! webhooks").

use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Need;
use crate::auth::Authenticated;
use crate::conditional::IfMatch;
use crate::domain::input::Errors;
use crate::domain::webhook::parse_webhook;
use crate::error::ApiError;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created, no_content, ok_tagged};
use crate::idempotency::respond_once;
use crate::notify::webhook::{check_destination, new_secret};
use crate::state::AppState;
use crate::store::webhooks::{self, Registered, Webhook};
use crate::store::{standing, PageRequest};

/// The answer to a registration: the webhook and, in this response only, its secret.
#[derive(Debug, Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    webhook: &'a Webhook,
    /// `whsec_...`; `null` in the replay of an `Idempotency-Key` retry, since the stored
    /// answer never holds it.
    secret: Option<&'a str>,
}

fn location(conference_id: Uuid, w: &Webhook) -> String {
    format!("/api/v1/conferences/{conference_id}/webhooks/{}", w.id)
}

/// `POST .../webhooks` `{"url", "events"}` (organisers of the conference): 201 with `Location`
/// and `{"id", "url", "events", "secret", "created_at"}`, `Cache-Control: no-store`. Errors:
/// 401, 403/404, 422 naming `url` (not `http`/`https`, userinfo, over 2048 characters, a host
/// that does not resolve or is or resolves to an internal address unless
/// `PLENARY_WEBHOOK_ALLOW_PRIVATE`) or `events`/`events[i]`.
pub async fn create(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let conference_id = *path;
    let value = parse_json(&req, &body)?;
    let mut conn = state.conn().await?;
    // Who may, before what the body says (others learn nothing from its validation).
    webhooks::may_register(&mut conn, caller.0, conference_id).await?;
    let new = parse_webhook(&value)?;
    if let Err(message) = check_destination(&new.url, state.webhook_allow_private).await {
        return Err(ApiError::field("url", message));
    }
    let secret = new_secret();
    let write = webhooks::create(&mut conn, caller.0, conference_id, &new, &secret);
    respond_once(
        write,
        move |r: &Registered| {
            let body = Created {
                webhook: &r.webhook,
                secret: Some(&r.secret),
            };
            let mut res = created(location(conference_id, &r.webhook), &body);
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        },
        move |r: &Registered| {
            let body = Created {
                webhook: &r.webhook,
                secret: None,
            };
            created(location(conference_id, &r.webhook), &body)
        },
    )
    .await
}

/// `GET .../webhooks?limit=&cursor=` (organisers of the conference): 200 `{"items", "next_cursor"}`,
/// oldest first, never a secret. Errors: 401, 403/404, 422.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    standing::conference(&conn, Some(caller.0), *path, Need::Write).await?;
    Ok(ok_tagged(
        &req,
        &webhooks::list(&mut conn, *path, &page).await?,
    ))
}

/// `GET .../webhooks/{webhook_id}` (organisers of the conference): 200 with the webhook and its
/// `ETag`, never its secret. Errors: 401, 403/404, 404.
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    standing::conference(&conn, Some(caller.0), conference_id, Need::Write).await?;
    Ok(ok_tagged(
        &req,
        &webhooks::get(&mut conn, conference_id, id).await?,
    ))
}

/// `DELETE .../webhooks/{webhook_id}` (organisers of the conference; `If-Match` optional): 204;
/// its pending deliveries are dropped. Errors: 401, 403/404, 404, 412.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    webhooks::delete(&mut conn, caller.0, conference_id, id, &if_match).await?;
    Ok(no_content())
}

/// `GET .../webhooks/{webhook_id}/deliveries?limit=&cursor=` (organisers of the conference):
/// 200 `{"items": [{"id", "type", "status", "attempts", "last_status_code", "last_error",
/// "created_at", "delivered_at"}], "next_cursor"}`, newest first. Errors: 401, 403/404, 404,
/// 422.
pub async fn deliveries(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    standing::conference(&conn, Some(caller.0), conference_id, Need::Write).await?;
    Ok(ok_tagged(
        &req,
        &webhooks::deliveries(&mut conn, conference_id, id, &page).await?,
    ))
}
