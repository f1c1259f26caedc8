//! `POST /api/v1/auth/token`, `GET /api/v1/me`, accepting invitations and the password
//! flows (`/auth/password-reset`, `/auth/password-reset/confirm`, `/auth/password`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::{flows, token::TOKEN_TTL_SECONDS, Authenticated};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::input::{Errors, Field, Obj};
use crate::error::ApiError;
use crate::http::request::parse_json;
use crate::state::AppState;
use crate::store::focal_points::{self, FocalPointOf};
use crate::store::organisers;

/// The password `password` as given (not trimmed or normalised: every byte counts), 1 to
/// 1024 bytes.
fn password_field(o: &mut Obj<'_>, errors: &mut Errors) -> Option<String> {
    password_named(o, "password", errors)
}

/// A password field `name` as given (not trimmed or normalised), 1 to 1024 bytes.
fn password_named(o: &mut Obj<'_>, name: &'static str, errors: &mut Errors) -> Option<String> {
    match o.raw(name) {
        Field::Value(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 1024 => {
            Some(s.clone())
        }
        Field::Absent | Field::Null => {
            errors.push(name, "is required");
            None
        }
        _ => {
            errors.push(name, "must be a string of 1 to 1024 bytes");
            None
        }
    }
}

/// The 200 answer of `/auth/token`, `/auth/invitations/accept` and
/// `/auth/password-reset/confirm`: a fresh token for `account` that its `tokens_valid_after`
/// accepts, not to be cached.
fn token_response(
    state: &AppState,
    account: Uuid,
    tokens_valid_after: Option<DateTime<Utc>>,
) -> Result<HttpResponse, ApiError> {
    let access_token = state
        .tokens
        .issue_after(account, tokens_valid_after)
        .map_err(ApiError::internal)?;
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
    let signed = flows::sign_in(&state, &address_of(&req, &state), &email, pass).await?;
    token_response(&state, signed.account, signed.tokens_valid_after)
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

/// Reads `{"code", "password"}` and, `with_name`, an optional `"name"`: the body of accepting
/// an invitation and of confirming a password reset (any other field is unknown). Errors:
/// 422 naming each field.
fn code_and_password(
    value: &serde_json::Value,
    with_name: bool,
) -> Result<(String, String, Option<String>), ApiError> {
    let mut errors = Errors::new();
    let (mut code, mut pass, mut name) = (None, None, None);
    if let Some(mut o) = Obj::new(value, "", &mut errors) {
        let c = o.string("code", 1, 200, &mut errors);
        code = o.required("code", c, &mut errors);
        pass = password_field(&mut o, &mut errors);
        if with_name {
            name = o.name("name", 1, 200, &mut errors).value();
        }
        o.finish(&mut errors);
    }
    errors.check()?;
    match (code, pass) {
        (Some(code), Some(pass)) => Ok((code, pass, name)),
        _ => Err(ApiError::internal("validated fields missing")),
    }
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
    let (code, pass, name) = code_and_password(&parse_json(&req, &body)?, true)?;
    let signed =
        flows::accept_invitation(&state, &address_of(&req, &state), &code, pass, name).await?;
    token_response(&state, signed.account, signed.tokens_valid_after)
}

/// The client address a request's password checks are counted by (empty when unknown).
fn address_of(req: &HttpRequest, state: &AppState) -> String {
    crate::http::request::client_address(req, &state.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// `POST /api/v1/auth/password-reset` `{"email"}`: 202 with no body, whether or not an
/// account has the email; when an active one has, it is sent a `password_reset` e-mail
/// with a one-time code valid one hour ([`password_resets::request`], the same statements
/// either way). Every request counts against the login limits of that email and the client
/// address (so the limit cannot tell whether the account exists, and bounds the e-mails one
/// can cause). Errors: 422 for an invalid email, 429 with `Retry-After` past the limits.
pub async fn request_password_reset(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let mut email = None;
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        let e = o.email("email", &mut errors);
        email = o.required("email", e, &mut errors);
        o.finish(&mut errors);
    }
    errors.check()?;
    let Some(email) = email else {
        return Err(ApiError::internal("validated fields missing"));
    };
    flows::request_password_reset(&state, &address_of(&req, &state), &email).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// `POST /api/v1/auth/password-reset/confirm` `{"code", "password"}`: sets the account's
/// new password (at least 12 characters, else 422), marks its address proven, spends the
/// code, ends every token issued before (see [`crate::auth::token::issued_in_time`]) and
/// answers 200 with a new token, like `/auth/token`.
///
/// Errors: one 401 for an unknown, used or expired code, after the same password work (the
/// password is hashed either way); 429 with `Retry-After` past the login limits, counted by
/// the code's account email (unknown codes share one key) and client address; 422 for
/// invalid fields.
pub async fn confirm_password_reset(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, pass, _) = code_and_password(&parse_json(&req, &body)?, false)?;
    let signed =
        flows::confirm_password_reset(&state, &address_of(&req, &state), &code, pass).await?;
    token_response(&state, signed.account, signed.tokens_valid_after)
}

/// `POST /api/v1/auth/password` `{"current_password", "password"}` (signed in): 204 once
/// the caller's password is the new one (at least 12 characters, else 422). Every token
/// issued before the change stops working, the caller's own included: sign in again with
/// the new password.
///
/// Errors: 401 without a valid token; 403 for a wrong current password (the token is fine,
/// the proof of the password is not), rate-limited like logins (429 with `Retry-After`,
/// counted by the account's email and the client address); 422 for invalid fields.
pub async fn change_password(
    req: HttpRequest,
    caller: Authenticated,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let value = parse_json(&req, &body)?;
    let mut errors = Errors::new();
    let (mut current, mut pass) = (None, None);
    if let Some(mut o) = Obj::new(&value, "", &mut errors) {
        current = password_named(&mut o, "current_password", &mut errors);
        pass = password_field(&mut o, &mut errors);
        o.finish(&mut errors);
    }
    errors.check()?;
    let (Some(current), Some(pass)) = (current, pass) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    flows::change_password(
        &state,
        &address_of(&req, &state),
        caller.0.id,
        current,
        pass,
    )
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
