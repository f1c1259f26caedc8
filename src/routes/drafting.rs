//! `/api/v1/conferences/{id}/attendance/draft`: attendance drafted from a press release, a
//! chair's statement or a news article (API.md, "Attendance from a text").

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Need;
use crate::auth::Authenticated;
use crate::domain::drafting::{draft as draft_text, parse_draft_request};
use crate::error::ApiError;
use crate::http::request::parse_json;
use crate::state::AppState;
use crate::store::{drafting, standing};

/// `POST /api/v1/conferences/{id}/attendance/draft` `{"text", "language"}` (organisers of the
/// conference): the parties, people and unresolved names of the text, and the batch body that
/// registers it. Stores nothing. Errors: 401, 403/404 as for any write of the conference, 422
/// (`text` empty or over 100 000 characters, `language`, unknown fields).
pub async fn draft(
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Bytes,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, Some(caller.0), *path, Need::Write).await?;
    let request = parse_draft_request(&value)?;
    let (register, settings) =
        drafting::context(&mut conn, *path, access.conference.host_country.clone()).await?;
    let countries = state.countries.clone();
    let draft = draft_text(
        &request.text,
        request.language,
        &countries,
        &register,
        &settings,
    );
    Ok(HttpResponse::Ok().json(draft))
}
