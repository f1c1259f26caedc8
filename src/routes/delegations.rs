//! `/api/v1/conferences/{id}/delegations`.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::delegation::{
    parse_delegation, parse_delegation_post, Delegation, DelegationChanges, DelegationPost,
};
use crate::domain::input::Errors;
use crate::domain::vocab::{DelegationRole, DelegationStatus};
use crate::domain::{Mode, DELEGATION_ROLES, DELEGATION_STATUSES};
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::{parse_json, parse_query};
use crate::http::respond::{created, created_tagged, no_content, ok_tagged};
use crate::idempotency::respond;
use crate::state::AppState;
use crate::store::delegations::{self, DelegationFilter, DelegationRow};
use crate::store::standing;
use crate::store::{protocol, PageRequest};

/// `GET /api/v1/conferences/{id}/delegations?status=&role=&order=created|protocol`: creation
/// order by default, or protocol order.
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let filter = DelegationFilter {
        status: query
            .one_of("status", DELEGATION_STATUSES, &mut errors)
            .and_then(DelegationStatus::parse),
        role: query
            .one_of("role", DELEGATION_ROLES, &mut errors)
            .and_then(DelegationRole::parse),
    };
    if query.one_of("order", &["created", "protocol"], &mut errors) == Some("protocol") {
        // Protocol order (store::protocol), with a cursor of its own.
        let page = PageRequest::from_query(&query, &mut errors);
        errors.check()?;
        let mut conn = state.conn().await?;
        standing::conference(&conn, caller.0, *path, Need::Read).await?;
        return Ok(ok_tagged(
            &req,
            &protocol::list_delegations(&mut conn, &state.countries, *path, &filter, &page).await?,
        ));
    }
    let page = PageRequest::from_query(&query, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    standing::conference(&conn, caller.0, *path, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &delegations::list(&mut conn, *path, &filter, &page).await?,
    ))
}

/// `POST /api/v1/conferences/{id}/delegations`: one delegation (201 with it) or
/// `{"items": [...]}` (201 with `{"items": [...]}`), all or nothing.
pub async fn create(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let conference_id = *path;
    let rows = |changes: Vec<DelegationChanges>| -> Vec<(DelegationRow, _)> {
        changes
            .into_iter()
            .map(|c| {
                let organisation = c.organisation.clone();
                (DelegationRow::new(conference_id, c), organisation)
            })
            .collect()
    };
    let parsed = parse_delegation_post(&value, &state.countries).map(|post| match post {
        DelegationPost::Single(changes) => (false, rows(vec![*changes])),
        DelegationPost::Batch(items) => (true, rows(items)),
    });
    let input = write_input(&value, parsed);
    let batch = matches!(input.parsed, Ok((true, _)));
    let input = input.map(|(_, rows)| rows);
    let mut conn = state.conn().await?;
    let write = delegations::insert_all(&mut conn, Some(caller.0), conference_id, input, batch);
    if batch {
        respond(write, move |saved: &Vec<DelegationRow>| {
            let items: Vec<Delegation> = saved.iter().cloned().map(Delegation::from).collect();
            let location = format!("/api/v1/conferences/{conference_id}/delegations");
            created(location, &serde_json::json!({ "items": items }))
        })
        .await
    } else {
        respond(write, move |saved: &Vec<DelegationRow>| {
            match saved.first() {
                Some(one) => {
                    let location =
                        format!("/api/v1/conferences/{conference_id}/delegations/{}", one.id);
                    created_tagged(location, &Delegation::from(one.clone()))
                }
                None => ApiError::internal("insert returned no row").error_response(),
            }
        })
        .await
    }
}

/// `GET /api/v1/conferences/{id}/delegations/{delegation_id}`.
pub async fn get(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    standing::conference(&conn, caller.0, conference_id, Need::ReadDelegation(id)).await?;
    let row = delegations::get(&mut conn, conference_id, id).await?;
    Ok(ok_tagged(&req, &Delegation::from(row)))
}

/// `PATCH /api/v1/conferences/{id}/delegations/{delegation_id}`.
pub async fn update(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let value = parse_json(&req, &body)?;
    let parsed = {
        let mut errors = Errors::new();
        let changes = parse_delegation(&value, "", &state.countries, Mode::Patch, &mut errors);
        errors.finish(changes)
    };
    let input = write_input(&value, parsed);
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let saved =
        delegations::update(&mut conn, caller.0, conference_id, id, &if_match, input).await?;
    Ok(ok_tagged(&req, &Delegation::from(saved)))
}

/// `DELETE /api/v1/conferences/{id}/delegations/{delegation_id}`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (conference_id, id) = *path;
    let mut conn = state.conn().await?;
    delegations::delete(
        &mut conn,
        caller.0,
        conference_id,
        id,
        &IfMatch::from_request(&req),
    )
    .await?;
    Ok(no_content())
}
