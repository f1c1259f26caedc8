//! Organisers' authentication: passwords (argon2id), access tokens (JWT, RFC 7519 / RFC 8725)
//! and the bearer-token extractors used by the routes.

pub mod flows;
pub mod password;
pub mod throttle;
pub mod token;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::access::Refusal;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::organisers;

/// The caller of a request, if it sent a valid bearer token; anonymous otherwise.
///
/// Errors: 401 when an `Authorization` header is present but invalid (a bad token is never
/// silently treated as anonymous).
#[derive(Debug, Clone, Copy)]
pub struct MaybeCaller(pub Option<Caller>);

/// The authenticated organiser of a write. Errors: 401 with `WWW-Authenticate: Bearer` when
/// the token is missing or invalid, or the organiser is disabled or deleted.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Caller);

/// An `Authorization` header that is not `Bearer <token>` (or not visible ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotBearer;

/// The token of a request's `Authorization: Bearer <token>` header: the scheme is matched
/// case-insensitively and the token is trimmed; the token itself is not checked.
///
/// `None` when there is no `Authorization` header; `Some(Err(NotBearer))` when there is one
/// but it is not visible ASCII, has no token or names another scheme.
pub fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, NotBearer>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(parse_bearer(value))
}

fn parse_bearer(value: &HeaderValue) -> Result<&str, NotBearer> {
    let value = value.to_str().map_err(|_| NotBearer)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(NotBearer);
    }
    Ok(token.trim())
}

/// The active organiser of the request's bearer token; `None` without an `Authorization`
/// header. Errors: 401 when the header is not a bearer token, the token does not verify, or
/// its organiser is disabled or deleted, or it was issued before the account's last password
/// reset or change; 503 when no database connection is available.
///
/// The one authentication path: the extractors [`MaybeCaller`] and [`Authenticated`] and the
/// `Idempotency-Key` layer all call it, and it runs once per request: its answer is kept in
/// the request's extensions, so the layer's authentication is the handler's (a failed one is
/// not kept, and the next caller answers it again).
pub async fn caller_of(req: HttpRequest) -> Result<Option<Caller>, ApiError> {
    if let Some(Known(caller)) = req.extensions().get::<Known>() {
        return Ok(*caller);
    }
    let caller = authenticate(&req).await?;
    req.extensions_mut().insert(Known(caller));
    Ok(caller)
}

/// The caller a request was authenticated as ([`caller_of`]), kept in its extensions.
#[derive(Debug, Clone, Copy)]
struct Known(Option<Caller>);

/// Authenticates the request's bearer token ([`caller_of`] without the kept answer).
async fn authenticate(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let invalid = || ApiError::Unauthorized("the bearer token is invalid or expired".to_string());
    let Some(token) = bearer_token(req.headers()) else {
        return Ok(None);
    };
    let token = token.map_err(|_| invalid())?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let claims = state.tokens.verify(token).map_err(|_| invalid())?;
    let mut conn = state.conn().await?;
    // The one read of the account: it exists, is not disabled, and the token was issued
    // after its last password reset or change.
    let organiser = organisers::find_active(&mut conn, claims.sub)
        .await?
        .filter(|o| token::issued_in_time(claims.iat, o.tokens_valid_after))
        .ok_or_else(invalid)?;
    Ok(Some(Caller {
        id: organiser.id,
        is_admin: organiser.is_admin,
        is_organiser: organiser.is_organiser,
    }))
}

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { caller_of(req).await.map(MaybeCaller) })
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            caller_of(req)
                .await?
                .map(Authenticated)
                .ok_or_else(|| Refusal::TokenRequired.into())
        })
    }
}
