//! `POST /api/v1/auth/token` and `GET /api/v1/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Serialize;

use crate::auth::{password, throttle, token::TOKEN_TTL_SECONDS, Authenticated};
use crate::domain::input::{parse_json, Errors, Obj};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::organisers;

/// The token response (RFC 6749 §5.1 shape).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

/// `POST /api/v1/auth/token` `{"email", "password"}`: 200 with a token; 401 for a wrong email
/// or password (same body, same work: an unknown email is verified against a dummy hash).
pub async fn token(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let mut email = None;
    let mut pass = None;
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let e = o.string("email", 1, 320, &mut errors);
        email = o.required("email", e, &mut errors);
        let p = match o.raw("password") {
            crate::domain::input::Field::Value(serde_json::Value::String(s))
                if !s.is_empty() && s.len() <= 1024 =>
            {
                Some(s.clone())
            }
            crate::domain::input::Field::Absent | crate::domain::input::Field::Null => {
                errors.push("password", "is required");
                None
            }
            _ => {
                errors.push("password", "must be a string of 1 to 1024 bytes");
                None
            }
        };
        pass = p;
        o.finish(&mut errors);
    }
    errors.check()?;
    let (Some(email), Some(pass)) = (email, pass) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    // Failed attempts are counted per email and client address, per email and per address
    // (in PostgreSQL, shared by every instance). A check is reserved atomically before any
    // password work (429 at a limit), and its verdict counted after.
    let address = throttle::client_address(&req, &state.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let counters = state.login_limits.counters(&email, &address);
    let attempt = throttle::reserve_check(&state, &counters).await?;
    let found = {
        let mut conn = state.conn().await?;
        organisers::find_by_email(&mut conn, &email).await?
    };
    let (stored, id) = match found {
        Some(o) if o.disabled_at.is_none() => (Some(o.password_hash), Some(o.id)),
        _ => (None, None),
    };
    let ok = password::verify_blocking(stored, SecretString::from(pass)).await;
    let id = id.filter(|_| ok);
    throttle::record_verdict(&state, attempt, &counters, id.is_none()).await?;
    let Some(id) = id else {
        return Err(ApiError::Unauthorized(
            "wrong email or password".to_string(),
        ));
    };
    let access_token = state.tokens.issue(id).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: TOKEN_TTL_SECONDS,
        }))
}

/// The calling organiser.
#[derive(Debug, Serialize)]
pub struct Me {
    /// Id.
    pub id: uuid::Uuid,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Admin flag.
    pub is_admin: bool,
}

/// `GET /api/v1/me`: the organiser of the token.
pub async fn me(
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let o = organisers::find_active(&mut conn, caller.0.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the organiser no longer exists".to_string()))?;
    Ok(HttpResponse::Ok().json(Me {
        id: o.id,
        email: o.email,
        name: o.name,
        is_admin: o.is_admin,
    }))
}
