//! `POST /api/v1/auth/token` and `GET /api/v1/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Serialize;

use crate::auth::{password, token::TOKEN_TTL_SECONDS, Authenticated};
use crate::domain::input::{parse_json, Errors, Obj};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{login_limits, organisers};

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
    // Failed attempts are counted per email and per client address (in PostgreSQL, shared by
    // every instance); at the limit, 429 before any password work. Successes do not count.
    let email_key = format!("email:{}", email.to_lowercase());
    let address_key = format!(
        "address:{}",
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    );
    let limits = state.login_limits;
    let found = {
        let mut conn = state.conn().await?;
        let (by_email, wait_email) =
            login_limits::failures(&mut conn, &email_key, limits.window_secs).await?;
        let (by_address, wait_address) =
            login_limits::failures(&mut conn, &address_key, limits.window_secs).await?;
        if by_email >= limits.per_email {
            return Err(ApiError::TooManyRequests(
                u64::try_from(wait_email).unwrap_or(1),
            ));
        }
        if by_address >= limits.per_address {
            return Err(ApiError::TooManyRequests(
                u64::try_from(wait_address).unwrap_or(1),
            ));
        }
        organisers::find_by_email(&mut conn, &email).await?
    };
    let (stored, id) = match found {
        Some(o) if o.disabled_at.is_none() => (Some(o.password_hash), Some(o.id)),
        _ => (None, None),
    };
    let ok = password::verify_blocking(stored, SecretString::from(pass)).await;
    match (ok, id) {
        (true, Some(id)) => {
            let mut conn = state.conn().await?;
            login_limits::reset(&mut conn, &email_key).await?;
            let access_token = state.tokens.issue(id).map_err(ApiError::internal)?;
            Ok(HttpResponse::Ok()
                .insert_header(("Cache-Control", "no-store"))
                .json(TokenResponse {
                    access_token,
                    token_type: "Bearer",
                    expires_in: TOKEN_TTL_SECONDS,
                }))
        }
        _ => {
            let mut conn = state.conn().await?;
            login_limits::count_attempt(&mut conn, &email_key, limits.window_secs).await?;
            login_limits::count_attempt(&mut conn, &address_key, limits.window_secs).await?;
            Err(ApiError::Unauthorized(
                "wrong email or password".to_string(),
            ))
        }
    }
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
