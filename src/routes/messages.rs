//! `/conferences/{id}/messages`: the delivery state of a conference's e-mails (API.md,
//! "Notifications"), for its organisers; never a body.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::Authenticated;
use crate::domain::input::{Errors, Obj};
use crate::domain::mail::MailKind;
use crate::error::ApiError;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::ok_tagged;
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::messages::{self, MessageFilter, MessageState};
use crate::store::write::Input;
use crate::store::{standing, PageRequest};

/// `GET .../messages?status=&kind=&limit=&cursor=` (organisers of the conference): 200
/// `{"items": [{"id", "kind", "to", "subject", "status", "attempts", "last_error",
/// "created_at", "sent_at"}], "next_cursor"}`, newest first. Errors: 401, 403/404, 422 for an
/// unknown `status` or `kind`.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    let kinds: Vec<&str> = MailKind::ALL.iter().map(|k| k.as_str()).collect();
    let filter = MessageFilter {
        status: query
            .one_of("status", &["pending", "sent", "failed"], &mut errors)
            .map(str::to_string),
        kind: query
            .one_of("kind", &kinds, &mut errors)
            .map(str::to_string),
    };
    errors.check()?;
    let mut conn = state.conn().await?;
    standing::conference(&conn, Some(caller.0), *path, Need::Write).await?;
    Ok(ok_tagged(
        &req,
        &messages::messages(&mut conn, *path, &filter, &page).await?,
    ))
}

/// `POST .../messages/{mid}/resend` (organisers of the conference): 202 with the message,
/// `pending` again. Errors: 401, 403/404, 404 for no such message, 409 for an invitation or a
/// password reset (its code is gone: invite again).
pub async fn resend(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, message_id) = *path;
    // No body, or an empty object: any field is one this operation does not have (judged
    // once the caller may resend, so that others learn nothing from it).
    let mut errors = Errors::new();
    if !body.is_empty() {
        let value = parse_json(&req, &body)?;
        if let Some(o) = Obj::new(&value, "", &mut errors) {
            o.finish(&mut errors);
        }
    }
    let input = Input {
        fields: Vec::new(),
        parsed: errors.into_fields(),
    };
    let mut conn = state.conn().await?;
    let write = messages::resend(&mut conn, caller.0, conference_id, message_id, input);
    respond(write, |m: &MessageState| HttpResponse::Accepted().json(m)).await
}
