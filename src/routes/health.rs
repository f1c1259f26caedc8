//! `/health/live`, `/health/ready` and the OpenAPI document.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::state::AppState;

/// The OpenAPI 3.1 document of this API (`api-spec/openapi.yaml`).
pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

/// `GET /health/live`: 200 `{"status": "live"}` while the process runs.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// `GET /health/ready`: 200 `{"status": "ready"}` when the database answers; 503 otherwise.
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    crate::store::ping(&mut conn)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

/// `GET /api-spec/openapi.yaml`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
