//! `/api/v1/conferences/{id}/participants`: the list of participants of a conference (who may
//! read it: [`crate::access`], `Need::ReadParticipants`).

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::MaybeCaller;
use crate::error::ApiError;
use crate::http::respond::ok_tagged;
use crate::state::AppState;
use crate::store::participants;
use crate::store::standing;

/// `GET /conferences/{id}/participants`: every delegation that counts (registered, confirmed,
/// attended) in protocol order with its members, head first. Its organisers see members'
/// emails; everyone else sees the list only when `participants_public` is true, and never
/// emails. Errors: 404 (hidden conference, or a list the caller may not read).
pub async fn list(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::ReadParticipants).await?;
    let (audience, conference) = (access.audience(), access.conference);
    Ok(ok_tagged(
        &req,
        &participants::of_conference(&mut conn, &state.countries, conference, audience).await?,
    ))
}
