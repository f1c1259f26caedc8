//! `/api/v1/conferences/{id}/delegations/{delegation_id}/members`: the conference's
//! organisers and the delegation's focal points (who may: [`crate::access`]; the nomination
//! rules: [`crate::store::members`]).

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde_json::Value;
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::delegation::{parse_member, parse_member_post, Member, MemberPost};
use crate::domain::input::Errors;
use crate::domain::sheet;
use crate::domain::Caller;
use crate::domain::Mode;
use crate::error::ApiError;
use crate::http::params::{sheet_input, write_input};
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created, created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::standing;
use crate::store::write::Input;
use crate::store::{delegations, members, PageRequest};

/// Checks the caller may read the members of this delegation ([`Need::ReadMembers`]:
/// organisers, its focal points) and the delegation belongs to the conference. (Writes check
/// their own rule, [`Need::Nominate`], inside their transaction: [`members::create`].)
async fn authorise(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<(), ApiError> {
    standing::conference(
        conn,
        caller,
        conference_id,
        Need::ReadMembers(delegation_id),
    )
    .await?;
    delegations::get(conn, conference_id, delegation_id).await?;
    Ok(())
}

/// `GET .../members`: head first, then in the order added.
pub async fn list(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    authorise(&mut conn, caller.0, conference_id, delegation_id).await?;
    Ok(ok_tagged(
        &req,
        &members::list(&mut conn, delegation_id, &page).await?,
    ))
}

/// `GET /api/v1/conferences/{id}/members?nomination_status=&limit=&cursor=` (organisers): the
/// secretariat's queue across every delegation, in the order members were added: 200
/// `{"items": [{"delegation_id", "member"}], "next_cursor"}`. Errors: 401, 403/404, 422 (a
/// `nomination_status` other than `nominated`, `accepted`, `rejected`; a bad cursor or limit).
pub async fn queue(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let page = PageRequest::from_query(&query, &mut errors);
    let status = query
        .one_of(
            "nomination_status",
            &["nominated", "accepted", "rejected"],
            &mut errors,
        )
        .and_then(crate::domain::vocab::NominationStatus::parse);
    errors.check()?;
    let mut conn = state.conn().await?;
    Ok(ok_tagged(
        &req,
        &members::queue(&mut conn, caller.0, *path, status, &page).await?,
    ))
}

/// `POST .../members`: one member (201 with it) or several, all or nothing (201 with
/// `{"items": [...]}` in the same order, `Location` the delegation's member list): a JSON
/// `{"items": [...]}`, or a spreadsheet of one member a row ([`sheet::CSV`], [`sheet::XLSX`],
/// read by [`sheet::parse_member_sheet`]). 403 for a focal point sending review fields; 409
/// for a second head, after the nominations deadline (focal points), past a quota (the whole
/// batch); 415 for another media type.
pub async fn create(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id) = *path;
    let media = req
        .mime_type()
        .ok()
        .flatten()
        .map(|m| m.essence_str().to_ascii_lowercase());
    let input: Input<MemberPost> = match media.as_deref() {
        Some(sheet::CSV) | Some(sheet::XLSX) => {
            sheet_input(&body, media.as_deref() == Some(sheet::XLSX))
        }
        _ => {
            let value = parse_json(&req, &body).map_err(|e| match e {
                ApiError::UnsupportedMediaType(_) => ApiError::UnsupportedMediaType(MEDIA_TYPES),
                other => other,
            })?;
            let mut input = write_input(&value, parse_member_post(&value));
            // A batch's field names are its items' (a focal point may send only some).
            if let Some(items) = value.get("items").and_then(Value::as_array) {
                let mut names: Vec<String> = items
                    .iter()
                    .filter_map(Value::as_object)
                    .flat_map(|o| o.keys().cloned())
                    .collect();
                names.sort();
                names.dedup();
                input.fields = names;
            }
            input
        }
    };
    let batch = !matches!(input.parsed, Ok(MemberPost::Single(_)));
    let input = input.map(MemberPost::into_items);
    let mut conn = state.conn().await?;
    let write = members::create_all(
        &mut conn,
        Some(caller.0),
        conference_id,
        delegation_id,
        input,
    );
    let list = format!("/api/v1/conferences/{conference_id}/delegations/{delegation_id}/members");
    if batch {
        respond(write, move |saved: &Vec<members::MemberRow>| {
            let items: Vec<Member> = saved.iter().cloned().map(Member::from).collect();
            created(list.clone(), &serde_json::json!({ "items": items }))
        })
        .await
    } else {
        respond(write, move |saved: &Vec<members::MemberRow>| {
            match saved.first() {
                Some(row) => {
                    created_tagged(format!("{list}/{}", row.id), &Member::from(row.clone()))
                }
                None => ApiError::internal("insert returned no row").error_response(),
            }
        })
        .await
    }
}

/// The media types `POST .../members` reads (the 415's message).
const MEDIA_TYPES: &str = "application/json, text/csv (RFC 4180, UTF-8, a header row) or \
     application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (XLSX)";

/// `PATCH .../members/{member_id}`: a focal point's change puts an accepted or rejected
/// member back to `nominated`; 403 and 409 as for `POST`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, id) = *path;
    let value = parse_json(&req, &body)?;
    let input = write_input(&value, parse_member(&value, Mode::Patch));
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let row = members::update(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        id,
        &if_match,
        input,
    )
    .await?;
    Ok(ok_tagged(&req, &Member::from(row)))
}

/// `DELETE .../members/{member_id}`: 409 for a focal point after the nominations deadline.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, delegation_id, id) = *path;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    members::delete(
        &mut conn,
        caller.0,
        conference_id,
        delegation_id,
        id,
        &if_match,
    )
    .await?;
    Ok(no_content())
}
