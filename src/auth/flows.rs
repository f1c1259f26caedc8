//! The account flows, one home for both front doors: the API's `/api/v1/auth/*` routes
//! ([`crate::routes::auth`], JSON in, a bearer token out) and the focal points' portal
//! ([`crate::portal`], forms in, a session cookie out) call these and nothing else, so the
//! rules are the same on both: the password checks (argon2id, off the async workers), the
//! minimum strength of new passwords, the one 401 for every refusal after the same work, and
//! the login limits (429 with `Retry-After`, counted in PostgreSQL per email and client
//! address, per email and per address; [`throttle`]).
//!
//! Each flow takes already-parsed values and the client's address (empty when unknown) and
//! answers the account it signed in as ([`SignedIn`]) or an [`ApiError`].

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use uuid::Uuid;

use super::{password, throttle};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::focal_points::{self, Acceptor};
use crate::store::{organisers, password_resets};

/// The account a flow signed in as: what a token or a session is issued for.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    /// The account.
    pub account: Uuid,
    /// Its `tokens_valid_after` (a token must be issued after it).
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

/// The one answer to a refused login: unknown email, wrong password, disabled account.
pub fn refused_login() -> ApiError {
    ApiError::Unauthorized("wrong email or password".to_string())
}

/// The one answer to every refused acceptance: unknown, used, expired or revoked code, or a
/// wrong password for the invitation's existing account.
pub fn refused_invitation() -> ApiError {
    ApiError::Unauthorized("the invitation code or the password is wrong".to_string())
}

/// The one answer to every refused reset code: unknown, used or expired (or its account
/// disabled meanwhile).
pub fn refused_reset() -> ApiError {
    ApiError::Unauthorized("the reset code is unknown, used or expired".to_string())
}

/// Signs in with `email` and `password`. Errors: [`refused_login`] (401) for a wrong email
/// or password, after the same work (an unknown email is verified against a dummy hash);
/// 429 past the login limits.
pub async fn sign_in(
    state: &AppState,
    address: &str,
    email: &str,
    pass: String,
) -> Result<SignedIn, ApiError> {
    let counters = state.login_limits.counters(email, address);
    let attempt = throttle::reserve_check(state, &counters).await?;
    let found = {
        let mut conn = state.conn().await?;
        organisers::find_by_email(&mut conn, email).await?
    };
    let (stored, id) = match found {
        Some(o) if o.disabled_at.is_none() => {
            (Some(o.password_hash), Some((o.id, o.tokens_valid_after)))
        }
        _ => (None, None),
    };
    let ok = password::verify_blocking(stored, SecretString::from(pass)).await;
    let id = id.filter(|_| ok);
    throttle::record_verdict(state, attempt, &counters, id.is_none()).await?;
    let (account, tokens_valid_after) = id.ok_or_else(refused_login)?;
    Ok(SignedIn {
        account,
        tokens_valid_after,
    })
}

/// Accepts the focal-point invitation `code`. Without an account for the invitation's email
/// one is created with this password (at least 12 characters, else 422 `password`; `name`
/// defaulting to the invitation's), without the organiser grant, its address proven unless
/// codes are also handed out in API responses (`PLENARY_INVITATION_CODES_IN_RESPONSE`); with
/// one, the password must be that account's.
///
/// Errors: [`refused_invitation`] (401) for every refused code or password, after the same
/// password work; 429 past the login limits (counted per the invitation's email, unknown
/// codes sharing one key); 422 for a new account's short password (not counted as a
/// failure).
pub async fn accept_invitation(
    state: &AppState,
    address: &str,
    code: &str,
    pass: String,
    name: Option<String>,
) -> Result<SignedIn, ApiError> {
    let invitation = {
        let mut conn = state.conn().await?;
        focal_points::usable(&mut conn, code).await?
    };
    let email_key = invitation
        .as_ref()
        .map_or("(unknown invitation code)".to_string(), |i| i.email.clone());
    let counters = state.login_limits.counters(&email_key, address);
    let attempt = throttle::reserve_check(state, &counters).await?;
    let outcome = accept_checked(state, invitation, pass, name).await;
    // Only refusals count as failures; a 422 (a new account's short password) does not.
    let failed = matches!(outcome, Ok(None));
    throttle::record_verdict(state, attempt, &counters, failed).await?;
    outcome?.ok_or_else(refused_invitation)
}

/// The password work and the acceptance of [`accept_invitation`]: `Ok(None)` for a refusal.
async fn accept_checked(
    state: &AppState,
    invitation: Option<focal_points::FocalPointRow>,
    pass: String,
    name: Option<String>,
) -> Result<Option<SignedIn>, ApiError> {
    let secret = SecretString::from(pass);
    let Some(invitation) = invitation else {
        password::verify_blocking(None, secret).await;
        return Ok(None);
    };
    let existing = {
        let mut conn = state.conn().await?;
        organisers::find_by_email(&mut conn, &invitation.email).await?
    };
    let mut tokens_valid_after = None;
    let acceptor = match existing {
        Some(account) => {
            let usable = account.disabled_at.is_none();
            let stored = usable.then_some(account.password_hash);
            if !password::verify_blocking(stored, secret).await {
                return Ok(None);
            }
            tokens_valid_after = account.tokens_valid_after;
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
                email_verified: !state.invitation_codes_in_response,
            }
        }
    };
    let mut conn = state.conn().await?;
    let accepted =
        focal_points::accept(&mut conn, invitation.id, &invitation.email, acceptor).await?;
    Ok(accepted.map(|account| SignedIn {
        account,
        tokens_valid_after,
    }))
}

/// The key the password-reset flows count `email`'s attempts under: the login limits'
/// numbers, in a count of their own, so that failed sign-ins do not block the reset meant
/// for a forgotten password, and reset requests do not lock the account's sign-in.
fn reset_key(email: &str) -> String {
    format!("password reset: {}", email.to_lowercase())
}

/// Starts a password reset for `email` (a `password_reset` e-mail when an active account has
/// it, [`password_resets::request`], the same statements either way). Every request counts
/// against the login limits' numbers for that email and address, in a count of their own
/// ([`reset_key`]), so the limit cannot tell whether the account exists, and bounds the
/// e-mails one can cause. Errors: 429 past the limits.
pub async fn request_password_reset(
    state: &AppState,
    address: &str,
    email: &str,
) -> Result<(), ApiError> {
    let counters = state.login_limits.counters(&reset_key(email), address);
    let attempt = throttle::reserve_check(state, &counters).await?;
    let outcome = {
        let mut conn = state.conn().await?;
        password_resets::request(&mut conn, email).await
    };
    throttle::record_verdict(state, attempt, &counters, true).await?;
    outcome?;
    Ok(())
}

/// Spends reset code `code`: the account's new password (at least 12 characters, else 422
/// `password`), its address proven, every token and session issued before ended. Errors:
/// [`refused_reset`] (401) for an unknown, used or expired code, after the same password
/// work; 429 past the login limits (counted by the code's account email, unknown codes
/// sharing one key).
pub async fn confirm_password_reset(
    state: &AppState,
    address: &str,
    code: &str,
    pass: String,
) -> Result<SignedIn, ApiError> {
    let secret = SecretString::from(pass);
    password::check_strength(&secret).map_err(|m| ApiError::field("password", m))?;
    let email = {
        let mut conn = state.conn().await?;
        password_resets::email_of(&mut conn, code).await?
    };
    let email_key = email.map_or_else(|| "(unknown reset code)".to_string(), |e| reset_key(&e));
    let counters = state.login_limits.counters(&email_key, address);
    let attempt = throttle::reserve_check(state, &counters).await?;
    let outcome = reset_checked(state, code, secret).await;
    throttle::record_verdict(state, attempt, &counters, matches!(outcome, Ok(None))).await?;
    let (account, valid_after) = outcome?.ok_or_else(refused_reset)?;
    Ok(SignedIn {
        account,
        tokens_valid_after: Some(valid_after),
    })
}

/// The password work and the reset of [`confirm_password_reset`]: the new password is
/// hashed whatever the code (an unknown code takes the same time), then the code spent.
async fn reset_checked(
    state: &AppState,
    code: &str,
    secret: SecretString,
) -> Result<Option<(Uuid, DateTime<Utc>)>, ApiError> {
    let password_hash = password::hash_blocking(secret)
        .await
        .map_err(ApiError::internal)?;
    let mut conn = state.conn().await?;
    Ok(password_resets::confirm(&mut conn, code, &password_hash, Utc::now()).await?)
}

/// Changes the password of signed-in `account` from `current` to `new` (at least 12
/// characters, else 422 `password`): every token and session issued before ends, the
/// caller's own included. Errors: 401 when the account no longer exists or is disabled;
/// 403 for a wrong current password, rate limited like logins (429).
pub async fn change_password(
    state: &AppState,
    address: &str,
    account: Uuid,
    current: String,
    new: String,
) -> Result<(), ApiError> {
    let gone = || ApiError::Unauthorized("the organiser no longer exists".to_string());
    let new_secret = SecretString::from(new);
    password::check_strength(&new_secret).map_err(|m| ApiError::field("password", m))?;
    let found = {
        let mut conn = state.conn().await?;
        organisers::find_active(&mut conn, account)
            .await?
            .ok_or_else(gone)?
    };
    let counters = state.login_limits.counters(&found.email, address);
    let attempt = throttle::reserve_check(state, &counters).await?;
    let ok =
        password::verify_blocking(Some(found.password_hash), SecretString::from(current)).await;
    throttle::record_verdict(state, attempt, &counters, !ok).await?;
    if !ok {
        return Err(ApiError::Forbidden(
            "the current password is wrong".to_string(),
        ));
    }
    let password_hash = password::hash_blocking(new_secret)
        .await
        .map_err(ApiError::internal)?;
    let mut conn = state.conn().await?;
    organisers::change_password(&mut conn, found.id, &password_hash, Utc::now())
        .await?
        .ok_or_else(gone)?;
    Ok(())
}
