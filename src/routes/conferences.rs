//! `/api/v1/conferences`, its organisers and its attendance.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::conference::{parse_conference, Conference};
use crate::domain::input::{Errors, FieldError, Invalid, Obj};
use crate::domain::vocab::{ConferenceStatus, OrganiserRole};
use crate::domain::{Mode, CONFERENCE_STATUSES, ORGANISER_ROLES};
use crate::error::ApiError;
use crate::http::params::order_param;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::attendance::{self, Order};
use crate::store::conferences::{self, ConferenceFilter, ConferenceRow};
use crate::store::grants;
use crate::store::standing;
use crate::store::{presence, search, PageRequest};

/// `GET /api/v1/conferences?q=&country=&participant=&from=&to=&status=`: newest first, or
/// with `q` (full-text search) best match first.
pub async fn list(
    req: HttpRequest,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let mut filter = ConferenceFilter {
        q: query.get("q").map(str::to_string),
        status: query
            .one_of("status", CONFERENCE_STATUSES, &mut errors)
            .and_then(ConferenceStatus::parse),
        ..ConferenceFilter::default()
    };
    if filter.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        errors.push("q", "must be at most 200 characters");
    }
    if let Some(c) = query.get("country") {
        match state.countries.parse(c) {
            Ok(code) => filter.country = Some(code.to_string()),
            Err(message) => errors.push("country", message),
        }
    }
    if let Some(p) = query.get("participant") {
        if let Ok(id) = Uuid::parse_str(p) {
            filter.participant_organisation = Some(id);
        } else {
            match state.countries.resolve(p) {
                Some(code) => filter.participant_country = Some(code.to_string()),
                None => errors.push(
                    "participant",
                    format!("neither a country nor an organisation id: {p:?}"),
                ),
            }
        }
    }
    (filter.from, filter.to) = query.date_range(&mut errors);
    let mut conn = state.conn().await?;
    if filter.q.is_some() {
        // Full-text search: best match first, with a cursor of its own (store::search).
        let page = PageRequest::from_query(&query, &mut errors);
        errors.check()?;
        return Ok(ok_tagged(
            &req,
            &search::ranked(&mut conn, &filter, caller.0, &page).await?,
        ));
    }
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    Ok(ok_tagged(
        &req,
        &conferences::list(&mut conn, &filter, caller.0, &page).await?,
    ))
}

/// `POST /api/v1/conferences`: the caller becomes its owner.
pub async fn create(
    req: HttpRequest,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    standing::organiser(caller.0)?;
    let changes = parse_conference(&value, &state.countries, Mode::Create)?;
    let row = ConferenceRow::new(changes, Some(caller.0.id));
    let mut conn = state.conn().await?;
    let write = conferences::create(&mut conn, Some(caller.0), row, Some(caller.0.id));
    respond(write, |saved: &ConferenceRow| {
        let location = format!("/api/v1/conferences/{}", saved.id);
        created_tagged(location, &Conference::from(saved.clone()))
    })
    .await
}

/// `GET /api/v1/conferences/{id}`: drafts are 404 to all but their organisers.
pub async fn get(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::ReadConference).await?;
    Ok(ok_tagged(&req, &Conference::from(access.conference)))
}

/// `PATCH /api/v1/conferences/{id}` (owners, editors, admins).
pub async fn update(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let changes = write_input(
        &value,
        parse_conference(&value, &state.countries, Mode::Patch),
    );
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let saved = conferences::update(&mut conn, caller.0, *path, &if_match, changes).await?;
    Ok(ok_tagged(&req, &Conference::from(saved)))
}

/// `DELETE /api/v1/conferences/{id}?cascade=true` (owners, editors, admins): 409 when it has
/// delegations and `cascade` is not true.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let cascade = query.boolean("cascade", &mut errors).unwrap_or(false);
    errors.check()?;
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    conferences::delete(&mut conn, caller.0, *path, &if_match, cascade).await?;
    Ok(no_content())
}

/// `GET /api/v1/conferences/{id}/organisers` (its organisers and admins).
pub async fn list_organisers(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    standing::conference(&conn, Some(caller.0), *path, Need::Write).await?;
    let items = grants::organisers_of(&mut conn, *path).await?;
    Ok(ok_tagged(
        &req,
        &serde_json::json!({"items": items, "next_cursor": null}),
    ))
}

/// `POST /api/v1/conferences/{id}/organisers` `{"email", "role"}` (owners and admins): 202
/// with `{"email", "role"}`, whether or not an account has the email (nothing is granted
/// without one; see `store::grants::add_organiser`). Errors: 401, 403/404, 409 when the
/// account already organises the conference, 422 for invalid fields.
pub async fn add_organiser(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let mut parsed = (None, None);
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let email = o.email("email", &mut errors);
        let role = o
            .one_of("role", ORGANISER_ROLES, &mut errors)
            .filter_map(OrganiserRole::parse);
        parsed = (
            o.required("email", email, &mut errors),
            o.required("role", role, &mut errors),
        );
        o.finish(&mut errors);
    }
    let parsed = errors.finish(parsed).and_then(|parsed| match parsed {
        (Some(email), Some(role)) => Ok((email, role)),
        _ => Err(Invalid(vec![FieldError::new(
            "",
            "validated fields missing",
        )])),
    });
    let mut conn = state.conn().await?;
    let input = write_input(&value, parsed);
    let write = grants::add_organiser(&mut conn, caller.0, *path, input);
    respond(write, |answer: &grants::GrantRequest| {
        HttpResponse::Accepted().json(answer)
    })
    .await
}

/// `GET /api/v1/conferences/{id}/attendance?order=name|protocol&by=delegation|session`:
/// per delegation, or with `by=session` the presence matrix (`store::presence::matrix`).
/// Public like the conference. Errors: 404, 422 (`order`, `by`).
pub async fn attendance(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let order = order_param(&query, Order::Name, &mut errors);
    let by_session = query.one_of("by", &["delegation", "session"], &mut errors) == Some("session");
    errors.check()?;
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::Read).await?;
    if by_session {
        return Ok(ok_tagged(
            &req,
            &presence::matrix(&mut conn, &state.countries, access.conference, order).await?,
        ));
    }
    Ok(ok_tagged(
        &req,
        &attendance::of_conference(&mut conn, &state.countries, access.conference, order).await?,
    ))
}

/// `GET /api/v1/conferences/{id}/log`: the audit log of the conference and what hangs under
/// it, newest first, for its organisers (and admins). Errors: 401 without a token, 403 for
/// other organisers of a published conference, 404 for a draft of someone else.
pub async fn log(
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
        &crate::store::audit::of_conference(&mut conn, *path, &page).await?,
    ))
}
