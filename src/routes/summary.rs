//! `/api/v1/attendance/summary?from=&to=&region=&subregion=`: attendance per country across
//! the published and cancelled conferences.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::MaybeCaller;
use crate::domain::input::Errors;
use crate::error::ApiError;
use crate::http::request::parse_query;
use crate::http::respond::ok_tagged;
use crate::state::AppState;
use crate::store::summary::{self, SummaryFilter};
use crate::store::PageRequest;

/// `GET /api/v1/attendance/summary?from=&to=&region=&subregion=&limit=&cursor=`: per country,
/// the published and cancelled conferences it attended, by role. Errors: 422 (dates, unknown
/// region or subregion, a subregion outside the region, limit, cursor); 401 for an invalid
/// token, as on every read (the summary is the same for every caller).
pub async fn get(
    req: HttpRequest,
    _caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
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
    Ok(ok_tagged(
        &req,
        &summary::per_country(&mut conn, &filter, &page).await?,
    ))
}
