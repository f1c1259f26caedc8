//! `/docs`: the interactive API page (Swagger UI) over `/api-spec/openapi.yaml`.
//!
//! The Swagger UI files are compiled into the binary (`utoipa-swagger-ui` with `vendored`), and
//! the page loads nothing but them and the spec from this server: it works with no network.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// Where the page loads the spec from.
pub const SPEC_URL: &str = "/api-spec/openapi.yaml";

/// The Swagger UI configuration: our spec, and no online validator badge (it would load an
/// image from the internet).
fn config() -> Arc<Config<'static>> {
    Arc::new(Config::new([SPEC_URL]).validator_url("none"))
}

/// `GET /docs`: 308 to `/docs/`, so that the page's relative asset URLs resolve under it.
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /docs/`: the page.
pub async fn index() -> Result<HttpResponse, ApiError> {
    serve("index.html")
}

/// `GET /docs/{file}`: one of the page's assets (scripts, styles, icons); 404 for anything else.
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&file)
}

fn serve(file: &str) -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve(file, config()).map_err(ApiError::internal)?;
    let file = found.ok_or_else(|| ApiError::NotFound("no such file".to_string()))?;
    let mut response = HttpResponse::Ok();
    if file.gzpipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type(file.content_type)
        .body(file.bytes.into_owned()))
}
