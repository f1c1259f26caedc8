//! `/api/v1/conferences/{id}/protocol-order`: the explicit protocol order of a conference's
//! delegations, read (`GET`) and replaced (`PUT`).

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::{Authenticated, MaybeCaller};
use crate::conditional::IfMatch;
use crate::domain::attendance::parse_delegation_ids;
use crate::error::ApiError;
use crate::http::params::write_input;
use crate::http::request::parse_json;
use crate::http::respond::ok_tagged;
use crate::state::AppState;
use crate::store::protocol;
use crate::store::standing;

/// `GET /conferences/{id}/protocol-order`: the explicit order (empty when the computed
/// order applies). Public like the conference.
pub async fn get(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    standing::conference(&conn, caller.0, *path, Need::Read).await?;
    Ok(ok_tagged(
        &req,
        &protocol::explicit_order(&mut conn, *path).await?,
    ))
}

/// `PUT /conferences/{id}/protocol-order` `{"delegation_ids": [...]}` (owners, editors,
/// admins): the listed delegations come first in that order, the others follow in the computed
/// order; `[]` returns to the computed order. 200 with the stored order and its `ETag`;
/// honours `If-Match`. Errors: 401, 403, 404, 412, 422.
pub async fn put(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let ids = write_input(&value, parse_delegation_ids(&value));
    let mut conn = state.conn().await?;
    let if_match = IfMatch::from_request(&req);
    let saved = protocol::set_explicit_order(&mut conn, caller.0, *path, &if_match, ids).await?;
    Ok(ok_tagged(&req, &saved))
}
