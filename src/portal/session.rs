//! Who is signed in to the portal, and whether a form really came from its own page.
//!
//! - The session cookie [`SESSION_COOKIE`] holds a random code ([`portal_sessions`]): HttpOnly,
//!   `SameSite=Strict`, `Path=/portal/`, `Secure` when the request came over HTTPS (directly,
//!   or per `PLENARY_PUBLIC_URL`). The API never reads cookies (its callers are bearer
//!   tokens, [`crate::auth`]), and the code is not a token: sent as one, it is a 401.
//! - Every form carries a CSRF token: the session's own ([`portal_sessions::Live::csrf`])
//!   once signed in, before that (sign-in, accepting an invitation, a password reset) the
//!   value of the [`FORM_COOKIE`] cookie (the double-submit pattern; the cookie is set by the
//!   page that shows the form). A form whose token is missing or wrong is 403 and changes
//!   nothing, as is a form sent with an `Origin` other than the portal's own.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

use crate::state::AppState;
use crate::store::codes::new_code;
use crate::store::portal_sessions::{self, Live};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "plenary_portal";
/// The cookie of the forms shown before sign-in (its value is their CSRF token).
pub const FORM_COOKIE: &str = "plenary_portal_form";
/// The path both cookies are scoped to.
const COOKIE_PATH: &str = "/portal/";

/// Whether the request reached the server over HTTPS, or the server's public address is
/// HTTPS (`PLENARY_PUBLIC_URL`, behind a TLS-terminating proxy): cookies are then `Secure`.
fn is_https(req: &HttpRequest, state: &AppState) -> bool {
    req.connection_info().scheme() == "https"
        || state
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
}

/// A portal cookie `name` = `value` with the portal's attributes; `max_age` in seconds.
fn cookie(
    req: &HttpRequest,
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req, state))
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// The session cookie for a session just opened.
pub fn session_cookie(req: &HttpRequest, state: &AppState, code: String) -> Cookie<'static> {
    cookie(
        req,
        state,
        SESSION_COOKIE,
        code,
        portal_sessions::SESSION_TTL_HOURS * 3600,
    )
}

/// The cookie that removes the session cookie (sign-out, a session that ended).
pub fn ended_session_cookie(req: &HttpRequest, state: &AppState) -> Cookie<'static> {
    cookie(req, state, SESSION_COOKIE, String::new(), 0)
}

/// The form token of a page shown before sign-in: the [`FORM_COOKIE`] the browser already
/// has, or a new one, with the cookie to set when it is new.
pub fn form_token(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
    match req.cookie(FORM_COOKIE) {
        Some(c) if c.value().len() == 43 => (c.value().to_string(), None),
        _ => {
            let token = new_code();
            let set = cookie(req, state, FORM_COOKIE, token.clone(), 24 * 3600);
            (token, Some(set))
        }
    }
}

/// The live session of the request's cookie, if any. Errors: the database's.
pub async fn current(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Live>, crate::error::ApiError> {
    let Some(code) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    if code.value().is_empty() || code.value().len() > 64 {
        return Ok(None);
    }
    let mut conn = state.conn().await?;
    Ok(portal_sessions::find(&mut conn, code.value()).await?)
}

/// Constant-time equality of a form's token and the expected one (both non-empty).
fn same_token(sent: Option<&str>, expected: &str) -> bool {
    match sent {
        Some(sent) if !sent.is_empty() && !expected.is_empty() => {
            sent.as_bytes().ct_eq(expected.as_bytes()).into()
        }
        _ => false,
    }
}

/// Whether the request's `Origin`, when it sends one, is the portal's own (the request's
/// host, over its scheme, or `PLENARY_PUBLIC_URL`'s origin).
fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin == own
        || state
            .public_url
            .as_deref()
            .is_some_and(|u| u.trim_end_matches('/') == origin)
}

/// Whether a signed-in form is genuine: its `csrf` field is the session's token and its
/// origin the portal's.
pub fn signed_in_form_ok(
    req: &HttpRequest,
    state: &AppState,
    session: &Live,
    sent: Option<&str>,
) -> bool {
    same_origin(req, state) && same_token(sent, &session.csrf)
}

/// Whether a form shown before sign-in is genuine: its `csrf` field is the value of the
/// browser's [`FORM_COOKIE`] and its origin the portal's.
pub fn anonymous_form_ok(req: &HttpRequest, state: &AppState, sent: Option<&str>) -> bool {
    let expected = req
        .cookie(FORM_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    same_origin(req, state) && same_token(sent, &expected)
}
