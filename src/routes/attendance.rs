//! Attendance that organisers publish: per-session presence and the presence matrix, the list
//! of participants, the explicit protocol order, and the summary across conferences.
//!
//! - `GET`/`PUT /api/v1/conferences/{id}/sessions/{session_id}/attendance`
//! - `GET /api/v1/conferences/{id}/attendance?by=session` (dispatched from
//!   `routes::conferences::attendance`)
//! - `GET /api/v1/conferences/{id}/participants`
//! - `GET`/`PUT /api/v1/conferences/{id}/protocol-order`
//! - `GET /api/v1/attendance/summary?from=&to=&region=&subregion=`

use actix_web::{web, HttpRequest, HttpResponse};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{ok, ok_tagged};
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::attendance::parse_delegation_ids;
use crate::domain::input::{parse_json, Errors, Query};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::attendance::Order;
use crate::store::conferences::{self, ConferenceRow, Need};
use crate::store::participants::{self, Audience};
use crate::store::summary::{self, SummaryFilter};
use crate::store::{presence, protocol, PageRequest};

/// Reads `?order=name|protocol` (default `default`). Records a 422 for any other value.
pub fn order_param(query: &Query, default: Order, errors: &mut Errors) -> Order {
    match query.one_of("order", &["name", "protocol"], errors) {
        Some("name") => Order::Name,
        Some("protocol") => Order::Protocol,
        _ => default,
    }
}

/// `GET .../sessions/{session_id}/attendance`: the delegations present (public for published
/// and cancelled conferences). Errors: 404 (conference, or session not in it).
pub async fn get_session(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, session_id) = *path;
    let mut conn = state.conn().await?;
    conferences::access(&mut conn, conference_id, caller.0, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &presence::get(&mut conn, &state.countries, conference_id, session_id).await?,
    ))
}

/// `PUT .../sessions/{session_id}/attendance` `{"delegation_ids": [...]}`: replaces the
/// delegations present (owners, editors, admins); 200 with the new state and its `ETag`;
/// honours `If-Match`. Errors: 401, 403, 404, 412, 422 (body, or a delegation of another
/// conference).
pub async fn put_session(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, session_id) = *path;
    let value = parse_json(&req, &body)?;
    let mut conn = state.conn().await?;
    conferences::access(&mut conn, conference_id, Some(caller.0), Need::Write).await?;
    // Existence before validation: a session of another conference is 404, whatever the body.
    presence::get(&mut conn, &state.countries, conference_id, session_id).await?;
    let ids = parse_delegation_ids(&value)?;
    let if_match = IfMatch::from_request(&req);
    let saved = presence::set(
        &mut conn,
        &state.countries,
        caller.0,
        conference_id,
        session_id,
        &if_match,
        ids,
    )
    .await?;
    Ok(ok_tagged(&req, &saved))
}

/// `GET /conferences/{id}/attendance?by=session&order=name|protocol`: the presence matrix.
pub async fn matrix(
    conference: ConferenceRow,
    order: Order,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    Ok(ok(&presence::matrix(
        &mut conn,
        &state.countries,
        conference,
        order,
    )
    .await?))
}

/// Loads a conference whose list of participants the caller may read, and for whom.
///
/// Errors: 404 when the conference is hidden from the caller, or when its list is not public
/// and the caller does not organise it (a list the caller may not see does not exist for
/// them).
pub async fn participants_access(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    caller: MaybeCaller,
) -> Result<(ConferenceRow, Audience), ApiError> {
    let access = conferences::access(conn, conference_id, caller.0, Need::Read).await?;
    if access.can_write {
        Ok((access.conference, Audience::Organisers))
    } else if access.conference.participants_public {
        Ok((access.conference, Audience::Public))
    } else {
        Err(ApiError::NotFound(
            "the list of participants of this conference is not public".to_string(),
        ))
    }
}

/// `GET /conferences/{id}/participants`: every delegation that counts (registered, confirmed,
/// attended) in protocol order with its members, head first. Its organisers see members'
/// emails; everyone else sees the list only when `participants_public` is true, and never
/// emails.
pub async fn participants(
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let (conference, audience) = participants_access(&mut conn, *path, caller).await?;
    Ok(ok(&participants::of_conference(
        &mut conn,
        &state.countries,
        conference,
        audience,
    )
    .await?))
}

/// `GET /conferences/{id}/protocol-order`: the explicit order (empty when the computed
/// order applies). Public like the conference.
pub async fn get_protocol_order(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    conferences::access(&mut conn, *path, caller.0, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &protocol::explicit_order(&mut conn, *path).await?,
    ))
}

/// `PUT /conferences/{id}/protocol-order` `{"delegation_ids": [...]}` (owners, editors,
/// admins): the listed delegations come first in that order, the others follow in the computed
/// order; `[]` returns to the computed order. 200 with the stored order and its `ETag`;
/// honours `If-Match`. Errors: 401, 403, 404, 412, 422.
pub async fn put_protocol_order(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut conn = state.conn().await?;
    conferences::access(&mut conn, *path, Some(caller.0), Need::Write).await?;
    let ids = parse_delegation_ids(&value)?;
    let if_match = IfMatch::from_request(&req);
    let saved = protocol::set_explicit_order(&mut conn, caller.0, *path, &if_match, ids).await?;
    Ok(ok_tagged(&req, &saved))
}

/// `GET /api/v1/attendance/summary?from=&to=&region=&subregion=&limit=&cursor=`: per country,
/// the published and cancelled conferences it attended, by role. Errors: 422 (dates, unknown
/// region or subregion, a subregion outside the region, limit, cursor).
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::from_request(&req)?;
    let mut errors = Errors::new();
    let (from, to) = query.date_range(&mut errors);
    let page = PageRequest::from_query(&query, &mut errors);
    let mut conn = state.conn().await?;
    let (region, subregion) = summary::resolve_region(
        &mut conn,
        query.get("region"),
        query.get("subregion"),
        &mut errors,
    )
    .await?;
    errors.check()?;
    let filter = SummaryFilter {
        from,
        to,
        region,
        subregion,
    };
    Ok(ok(&summary::per_country(&mut conn, &filter, &page).await?))
}
