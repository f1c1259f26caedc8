//! `POST /api/v1/auth/token` and `GET /api/v1/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Serialize;

use crate::auth::{password, throttle, token::TOKEN_TTL_SECONDS, Authenticated};
use uuid::Uuid;

use crate::domain::input::{Errors, Field, Obj};
use crate::error::ApiError;
use crate::http::request::parse_json;
use crate::state::AppState;
use crate::store::focal_points::{self, Acceptor, FocalPointOf};
use crate::store::organisers;

/// A password as given (not trimmed or normalised: every byte counts), 1 to 1024 bytes.
fn password_field(o: &mut Obj<'_>, errors: &mut Errors) -> Option<String> {
    match o.raw("password") {
        Field::Value(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 1024 => {
            Some(s.clone())
        }
        Field::Absent | Field::Null => {
            errors.push("password", "is required");
            None
        }
        _ => {
            errors.push("password", "must be a string of 1 to 1024 bytes");
            None
        }
    }
}

/// The 200 answer of `/auth/token` and `/auth/invitations/accept`: a fresh token for
/// `account`, not to be cached.
fn token_response(state: &AppState, account: Uuid) -> Result<HttpResponse, ApiError> {
    let access_token = state.tokens.issue(account).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: TOKEN_TTL_SECONDS,
        }))
}

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
        pass = password_field(&mut o, &mut errors);
        o.finish(&mut errors);
    }
    errors.check()?;
    let (Some(email), Some(pass)) = (email, pass) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    // Failed attempts are counted per email and client address, per email and per address
    // (in PostgreSQL, shared by every instance). A check is reserved atomically before any
    // password work (429 at a limit), and its verdict counted after.
    let address = crate::http::request::client_address(&req, &state.trusted_proxies)
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
    token_response(&state, id)
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
    /// The organiser grant: may create conferences and organisations.
    pub is_organiser: bool,
    /// The delegations the account is an active focal point of.
    pub focal_point_of: Vec<FocalPointOf>,
}

/// `GET /api/v1/me`: the organiser of the token.
pub async fn me(
    req: HttpRequest,
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let o = organisers::find_active(&mut conn, caller.0.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the organiser no longer exists".to_string()))?;
    let focal_point_of = focal_points::of_account(&mut conn, o.id).await?;
    Ok(crate::http::respond::ok_tagged(
        &req,
        &Me {
            id: o.id,
            email: o.email,
            name: o.name,
            is_admin: o.is_admin,
            is_organiser: o.is_organiser,
            focal_point_of,
        },
    ))
}

/// The one answer to every refused acceptance: unknown, used, expired or revoked code, or a
/// wrong password for the invitation's existing account.
fn refused_invitation() -> ApiError {
    ApiError::Unauthorized("the invitation code or the password is wrong".to_string())
}

/// `POST /api/v1/auth/invitations/accept` `{"code", "password", "name"}`: accepts a
/// focal-point invitation and answers 200 with a token, like `/auth/token`. Without an
/// account for the invitation's email one is created with this password (at least 12
/// characters, else 422; `name` defaulting to the invitation's), without the organiser
/// grant; with one, the password must be that account's.
///
/// Errors: one 401 for every refused code or password, after the same password work (an
/// unknown code is verified against a dummy hash); 429 with `Retry-After` past the limits
/// of `/auth/token`, counted by the same limiter (per the invitation's email and client
/// address, per email, per address); 422 for invalid fields.
pub async fn accept_invitation(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let (mut code, mut pass, mut name) = (None, None, None);
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let c = o.string("code", 1, 200, &mut errors);
        code = o.required("code", c, &mut errors);
        pass = password_field(&mut o, &mut errors);
        name = o.name("name", 1, 200, &mut errors).value();
        o.finish(&mut errors);
    }
    errors.check()?;
    let (Some(code), Some(pass)) = (code, pass) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let invitation = {
        let mut conn = state.conn().await?;
        focal_points::usable(&mut conn, &code).await?
    };
    // Counted like logins, keyed by the invitation's email (unknown codes share one key).
    let address = crate::http::request::client_address(&req, &state.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let email_key = invitation
        .as_ref()
        .map_or("(unknown invitation code)".to_string(), |i| i.email.clone());
    let counters = state.login_limits.counters(&email_key, &address);
    let attempt = throttle::reserve_check(&state, &counters).await?;
    let outcome = accept_checked(&state, invitation, pass, name).await;
    // Only refusals count as failures; a 422 (a new account's short password) does not.
    let failed = matches!(outcome, Ok(None));
    throttle::record_verdict(&state, attempt, &counters, failed).await?;
    match outcome? {
        Some(account) => token_response(&state, account),
        None => Err(refused_invitation()),
    }
}

/// The password work and the acceptance of [`accept_invitation`]: `Ok(None)` for a refusal
/// (the one 401), `Err` for a 422 or a server error.
async fn accept_checked(
    state: &AppState,
    invitation: Option<focal_points::FocalPointRow>,
    pass: String,
    name: Option<String>,
) -> Result<Option<Uuid>, ApiError> {
    let secret = SecretString::from(pass);
    let Some(invitation) = invitation else {
        password::verify_blocking(None, secret).await;
        return Ok(None);
    };
    let existing = {
        let mut conn = state.conn().await?;
        organisers::find_by_email(&mut conn, &invitation.email).await?
    };
    let acceptor = match existing {
        Some(account) => {
            let usable = account.disabled_at.is_none();
            let stored = usable.then_some(account.password_hash);
            if !password::verify_blocking(stored, secret).await {
                return Ok(None);
            }
            Acceptor::Existing(account.id)
        }
        None => {
            password::check_strength(&secret).map_err(|m| ApiError::field("password", m))?;
            let password_hash = password::hash_blocking(secret)
                .await
                .map_err(ApiError::internal)?;
            Acceptor::New {
                name: name.unwrap_or_else(|| invitation.name.clone()),
                password_hash,
            }
        }
    };
    let mut conn = state.conn().await?;
    Ok(focal_points::accept(&mut conn, invitation.id, &invitation.email, acceptor).await?)
}
