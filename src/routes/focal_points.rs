//! `/api/v1/conferences/{id}/delegations/{delegation_id}/focal-points`: the conference's
//! organisers invite, list and revoke a delegation's focal points (API.md "Accreditation").

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Need;
use crate::auth::Authenticated;
use crate::domain::input::{Errors, FieldError, Invalid, Obj};
use crate::domain::Caller;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::parse_json;
use crate::http::respond::{created, no_content, ok_tagged};
use crate::idempotency::respond_once;
use crate::state::AppState;
use crate::store::delegations;
use crate::store::focal_points::{self, FocalPoint, Invitation};
use crate::store::standing;

/// The answer to an invitation: the focal point and, in this response only, its code.
#[derive(Debug, Serialize)]
struct Invited {
    #[serde(flatten)]
    focal_point: FocalPoint,
    /// The code to send to the focal point; `null` in a replay of an `Idempotency-Key`
    /// retry, since the code is never stored.
    invitation_code: Option<String>,
}

fn location(conference_id: Uuid, i: &Invitation) -> String {
    format!(
        "/api/v1/conferences/{conference_id}/delegations/{}/focal-points/{}",
        i.row.delegation_id, i.row.id
    )
}

/// Checks the caller organises the conference and the delegation belongs to it (the reads';
/// the writes check inside their transaction: [`focal_points::invite`], [`focal_points::revoke`]).
async fn authorise(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<(), ApiError> {
    standing::conference(conn, Some(caller), conference_id, Need::Write).await?;
    delegations::get(conn, conference_id, delegation_id).await?;
    Ok(())
}

/// `POST .../focal-points` `{"email", "name"}` (organisers): 201 with the focal point,
/// `status: "invited"` and `invitation_code` null (the code is sent in the `invitation`
/// e-mail; with `PLENARY_INVITATION_CODES_IN_RESPONSE=true`, the code). Errors: 401, 403/404, 409 when the email
/// is already invited or active for the delegation, 422.
pub async fn invite(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let mut parsed = (None, None);
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let email = o.email("email", &mut errors);
        let name = o.name("name", 1, 200, &mut errors);
        parsed = (
            o.required("email", email, &mut errors),
            o.required("name", name, &mut errors),
        );
        o.finish(&mut errors);
    }
    let parsed = errors.finish(parsed).and_then(|parsed| match parsed {
        (Some(email), Some(name)) => Ok((email, name)),
        _ => Err(Invalid(vec![FieldError::new(
            "",
            "validated fields missing",
        )])),
    });
    let input = write_input(&value, parsed);
    let mut conn = state.conn().await?;
    let write = focal_points::invite(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        input,
        state.invitation_ttl_days,
    );
    // The code leaves only in the invitation e-mail, unless the secretariat delivers codes
    // itself (API.md, "Accreditation").
    let codes_in_response = state.invitation_codes_in_response;
    respond_once(
        write,
        move |i: &Invitation| {
            let body = Invited {
                focal_point: FocalPoint::from(&i.row),
                invitation_code: codes_in_response.then(|| i.code.clone()),
            };
            let mut res = created(location(conference_id, i), &body);
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            res
        },
        move |i: &Invitation| {
            let body = Invited {
                focal_point: FocalPoint::from(&i.row),
                invitation_code: None,
            };
            created(location(conference_id, i), &body)
        },
    )
    .await
}

/// `GET .../focal-points` (organisers): every invitation of the delegation with its
/// `status`, never a code.
pub async fn list(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let mut conn = state.conn().await?;
    authorise(&mut conn, caller.0, conference_id, delegation_id).await?;
    let items = focal_points::list(&mut conn, delegation_id).await?;
    Ok(ok_tagged(
        &req,
        &serde_json::json!({"items": items, "next_cursor": null}),
    ))
}

/// `DELETE .../focal-points/{focal_point_id}` (organisers): 204; the code and the grant stop
/// at once. Errors: 401, 403/404.
pub async fn revoke(
    path: web::Path<(Uuid, Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, id) = *path;
    let mut conn = state.conn().await?;
    focal_points::revoke(&mut conn, caller.0, conference_id, delegation_id, id).await?;
    Ok(no_content())
}
