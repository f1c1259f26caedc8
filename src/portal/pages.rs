//! The portal's handlers: read a form, call the same flows and store functions as the API
//! ([`crate::auth::flows`], [`crate::store::members`], [`crate::store::credentials`], with
//! the same access checks, quotas, deadline, audit and errors), then render a page or
//! redirect (303) to one. A refused write shows the page again with the API's words next to
//! the fields they name, and the status the API would have answered.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::session::{self, anonymous_form_ok, signed_in_form_ok};
use super::view::{self, see_other, text};
use crate::access::Need;
use crate::auth::flows::{self, SignedIn};
use crate::conditional::IfMatch;
use crate::domain::conference::Conference;
use crate::domain::delegation::{parse_member, parse_member_post, Member, MemberPost};
use crate::domain::input::check_pdf;
use crate::domain::sheet;
use crate::domain::{Caller, Mode};
use crate::error::ApiError;
use crate::http::params::{sheet_input, write_input};
use crate::http::request::{client_address, MAX_DOCUMENT_BYTES};
use crate::idempotency::{self, respond};
use crate::state::AppState;
use crate::store::members::MemberKey;
use crate::store::portal_sessions::{self, Live};
use crate::store::write::Input;
use crate::store::PageRequest;
use crate::store::{credentials, delegations, focal_points, members, organisations, standing};

/// The live session of the request, or `return` the redirect to the sign-in page.
macro_rules! signed_in_or_redirect {
    ($req:expr, $state:expr) => {
        match signed_in(&$req, &$state).await? {
            Ok(live) => live,
            Err(redirect) => return Ok(redirect),
        }
    };
}

/// The session and the urlencoded form of a signed-in form's request; `return`s the
/// redirect to the sign-in page without a session, the 403 page for a form without its
/// token or from another origin, 400 for a body that is not a form.
macro_rules! signed_in_form {
    ($req:expr, $state:expr, $body:expr) => {{
        let live = signed_in_or_redirect!($req, $state);
        let form = read_form(&$body)?;
        if let Some(refused) = checked_form(&$req, &$state, &live, &form) {
            return Ok(refused);
        }
        (live, form)
    }};
}

/// The urlencoded form of a page shown before sign-in; `return`s the 403 page for a form
/// without its token (the double-submit cookie's) or from another origin.
macro_rules! anonymous_form {
    ($req:expr, $state:expr, $body:expr) => {{
        let form = read_form(&$body)?;
        if !anonymous_form_ok(&$req, &$state, field(&form, "csrf")) {
            return forged(None);
        }
        form
    }};
}

/// The portal's home.
pub const HOME: &str = "/portal/";
/// The sign-in page.
pub const SIGN_IN: &str = "/portal/sign-in";

/// A form's fields, in order (`application/x-www-form-urlencoded`).
type Form = Vec<(String, String)>;

/// The value of form field `name` (the first), if sent.
fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads a urlencoded form. Errors: 400 when the body is not one.
fn read_form(body: &[u8]) -> Result<Form, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the form is malformed: {e}")))
}

/// The client address the login limits count (empty when unknown).
fn address(req: &HttpRequest, state: &AppState) -> String {
    client_address(req, &state.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// The caller of a live session.
fn caller_of(live: &Live) -> Caller {
    Caller {
        id: live.account_id,
        is_admin: live.is_admin,
        is_organiser: live.is_organiser,
    }
}

/// The signed-in account of the request, or the redirect to the sign-in page.
async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Result<Live, HttpResponse>, ApiError> {
    Ok(match session::current(req, state).await? {
        Some(live) => Ok(live),
        None => Err(see_other(
            SIGN_IN,
            vec![session::ended_session_cookie(req, state)],
        )),
    })
}

/// A page that says `message_key` (a strings key), with `status`.
fn notice(
    status: StatusCode,
    title_key: &str,
    message: String,
    live: Option<&Live>,
) -> Result<HttpResponse, ApiError> {
    view::page(
        status,
        "notice.html",
        json!({"title": text(title_key), "message": message, "session": session_view(live)}),
        Vec::new(),
    )
}

/// What the pages show of the session: the name and the sign-out form's token.
fn session_view(live: Option<&Live>) -> Value {
    match live {
        Some(l) => json!({"name": l.name, "email": l.email, "csrf": l.csrf}),
        None => Value::Null,
    }
}

/// The 403 page of a form whose token or origin is wrong (nothing changed).
fn forged(live: Option<&Live>) -> Result<HttpResponse, ApiError> {
    notice(
        StatusCode::FORBIDDEN,
        "forged_title",
        text("forged_message"),
        live,
    )
}

/// The field errors of a refused write, by field name, and its message for the whole form
/// (its `detail`, or the field errors that no form field shows).
fn errors_of(error: &ApiError, shown: &[&str]) -> (BTreeMap<String, String>, Option<String>) {
    let mut fields = BTreeMap::new();
    let mut rest = Vec::new();
    if let ApiError::Validation(list) = error {
        for e in list {
            if shown.contains(&e.field.as_str()) {
                fields
                    .entry(e.field.clone())
                    .or_insert_with(|| e.message.clone());
            } else if e.field.is_empty() {
                rest.push(e.message.clone());
            } else {
                rest.push(format!("{}: {}", e.field, e.message));
            }
        }
    } else if let Some(name) = field_of_conflict(error).filter(|n| shown.contains(n)) {
        // Shown at the field too: the whole-form summary names it as well.
        fields.insert(name.to_string(), error.detail());
        rest.push(error.detail());
    } else {
        rest.push(error.detail());
    }
    let general = (!rest.is_empty()).then(|| rest.join("; "));
    (fields, general)
}

/// The member form's field a 409 is about: `category` for a category's quota, `is_head`
/// for a second head of delegation; none for the delegation's quota in all or the deadline.
fn field_of_conflict(error: &ApiError) -> Option<&'static str> {
    use crate::domain::conference::Quotas;
    match error {
        ApiError::QuotaExceeded(m) if !m.contains(Quotas::PER_DELEGATION) => Some("category"),
        ApiError::Conflict(m) if m.contains("already has a head") => Some("is_head"),
        _ => None,
    }
}

/// Opens a session for `signed` and redirects home with its cookie (the pre-sign-in form
/// cookie removed).
async fn open_session(
    req: &HttpRequest,
    state: &AppState,
    signed: SignedIn,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let opened = portal_sessions::open(&mut conn, signed.account).await?;
    Ok(see_other(
        HOME,
        vec![session::session_cookie(req, state, opened.code)],
    ))
}

/// A page shown before sign-in: `template` with `page` and the form token.
fn anonymous_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    template: &str,
    mut page: Value,
) -> Result<HttpResponse, ApiError> {
    let (token, cookie) = session::form_token(req, state);
    if let Some(map) = page.as_object_mut() {
        map.insert("csrf".into(), token.into());
    }
    view::page(status, template, page, cookie.into_iter().collect())
}

/// `GET` of a form's target (`.../members`, `.../members/sheet`, `.../credentials`,
/// `.../members/{member_id}/delete`, `/portal/sign-out`): 303 to the page the form is on,
/// so that an address bar left on a refused form's address leads back to it.
pub async fn back(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let target = if let Some(member) = path.strip_suffix("/delete") {
        member.to_string()
    } else if let Some(at) = path.find("/members").or_else(|| path.find("/credentials")) {
        path[..at].to_string()
    } else {
        HOME.to_string()
    };
    see_other(&target, Vec::new())
}

/// `GET /portal/sign-in`: the form (email, password). Signed in already: home.
pub async fn sign_in_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if session::current(&req, &state).await?.is_some() {
        return Ok(see_other(HOME, Vec::new()));
    }
    anonymous_page(
        &req,
        &state,
        StatusCode::OK,
        "sign_in.html",
        json!({"form": {}}),
    )
}

/// `POST /portal/sign-in` `email`, `password`, `csrf`: the API's sign-in
/// ([`flows::sign_in`]: the same 401 for every refusal, the same limits), then a session.
pub async fn sign_in(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = anonymous_form!(req, state, body);
    let email = field(&form, "email").unwrap_or("").trim().to_string();
    let pass = field(&form, "password").unwrap_or("").to_string();
    let outcome = if email.is_empty() || pass.is_empty() {
        Err(ApiError::Unauthorized(text("sign_in_missing")))
    } else {
        flows::sign_in(&state, &address(&req, &state), &email, pass).await
    };
    match outcome {
        Ok(signed) => open_session(&req, &state, signed).await,
        Err(e) => anonymous_page(
            &req,
            &state,
            e.status_code(),
            "sign_in.html",
            json!({"form": {"email": email}, "error": e.detail()}),
        ),
    }
}

/// `POST /portal/sign-out` `csrf`: ends the session.
pub async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (live, _) = signed_in_form!(req, state, body);
    let mut conn = state.conn().await?;
    portal_sessions::close(&mut conn, live.id).await?;
    Ok(see_other(
        SIGN_IN,
        vec![session::ended_session_cookie(&req, &state)],
    ))
}

/// `GET /portal/invitation?code=`: the form to accept an invitation (the link of the
/// invitation e-mail), the code filled in, with the name and address it invites, or a
/// warning that the code no longer works (used, expired or revoked).
pub async fn invitation_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = query_code(&req);
    // Whom the code invites (its holder read it in that person's e-mail), or that it no
    // longer works, before a password is typed.
    let mut page = json!({"form": {"code": code}});
    if !code.is_empty() {
        let mut conn = state.conn().await?;
        match focal_points::usable(&mut conn, &code).await? {
            Some(invitation) => {
                page["invited"] = json!({"name": invitation.name, "email": invitation.email});
            }
            None => page["unusable"] = true.into(),
        }
    }
    anonymous_page(&req, &state, StatusCode::OK, "invitation.html", page)
}

/// The `code` of the query string, if any (at most 200 characters).
fn query_code(req: &HttpRequest) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()
        .and_then(|q| q.into_iter().find(|(k, _)| k == "code").map(|(_, v)| v))
        .filter(|c| c.len() <= 200)
        .unwrap_or_default()
}

/// `POST /portal/invitation` `code`, `password`, `name`, `csrf`: the API's acceptance
/// ([`flows::accept_invitation`]), then a session.
pub async fn accept_invitation(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = anonymous_form!(req, state, body);
    let code = field(&form, "code").unwrap_or("").trim().to_string();
    let pass = field(&form, "password").unwrap_or("").to_string();
    let name = field(&form, "name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let outcome = if code.is_empty() || pass.is_empty() || code.len() > 200 || pass.len() > 1024 {
        Err(ApiError::Unauthorized(text("invitation_missing")))
    } else {
        flows::accept_invitation(&state, &address(&req, &state), &code, pass, name.clone()).await
    };
    match outcome {
        Ok(signed) => open_session(&req, &state, signed).await,
        Err(e) => {
            let (fields, general) = errors_of(&e, &["password"]);
            anonymous_page(
                &req,
                &state,
                e.status_code(),
                "invitation.html",
                json!({"form": {"code": code, "name": name}, "errors": fields, "error": general}),
            )
        }
    }
}

/// `GET /portal/password-reset`: the form asking for the address.
pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    anonymous_page(
        &req,
        &state,
        StatusCode::OK,
        "reset.html",
        json!({"form": {}}),
    )
}

/// `POST /portal/password-reset` `email`, `csrf`: the API's reset request (an e-mail with a
/// link when an account has the address; the same page either way).
pub async fn request_reset(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = anonymous_form!(req, state, body);
    let email = field(&form, "email").unwrap_or("").trim().to_string();
    let outcome = match crate::domain::input::check_email(&email) {
        Ok(()) if email.len() <= 320 => {
            flows::request_password_reset(&state, &address(&req, &state), &email).await
        }
        Ok(()) => Err(ApiError::field("email", "must be at most 320 characters")),
        Err(message) => Err(ApiError::field("email", message)),
    };
    match outcome {
        Ok(()) => notice(
            StatusCode::OK,
            "reset_sent_title",
            text("reset_sent_message"),
            None,
        ),
        Err(e) => {
            let (fields, general) = errors_of(&e, &["email"]);
            anonymous_page(
                &req,
                &state,
                e.status_code(),
                "reset.html",
                json!({"form": {"email": email}, "errors": fields, "error": general}),
            )
        }
    }
}

/// `GET /portal/password-reset/confirm?code=`: the form for the new password (the link of
/// the `password_reset` e-mail).
pub async fn reset_confirm_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = query_code(&req);
    anonymous_page(
        &req,
        &state,
        StatusCode::OK,
        "reset_confirm.html",
        json!({"form": {"code": code}}),
    )
}

/// `POST /portal/password-reset/confirm` `code`, `password`, `csrf`: the API's confirmation
/// ([`flows::confirm_password_reset`]: earlier tokens and sessions end), then a session.
pub async fn confirm_reset(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = anonymous_form!(req, state, body);
    let code = field(&form, "code").unwrap_or("").trim().to_string();
    let pass = field(&form, "password").unwrap_or("").to_string();
    let outcome = if code.is_empty() || code.len() > 200 || pass.len() > 1024 {
        Err(ApiError::Unauthorized(text("reset_missing")))
    } else {
        flows::confirm_password_reset(&state, &address(&req, &state), &code, pass).await
    };
    match outcome {
        Ok(signed) => open_session(&req, &state, signed).await,
        Err(e) => {
            let (fields, general) = errors_of(&e, &["password"]);
            anonymous_page(
                &req,
                &state,
                e.status_code(),
                "reset_confirm.html",
                json!({"form": {"code": code}, "errors": fields, "error": general}),
            )
        }
    }
}

/// The name of a delegation as lists show it: its country's UN short name, or its
/// organisation's name.
async fn delegation_name(
    conn: &mut diesel_async::AsyncPgConnection,
    row: &delegations::DelegationRow,
) -> Result<String, ApiError> {
    if let Some(code) = &row.country {
        return Ok(crate::domain::country::un_name(code)
            .map(str::to_string)
            .unwrap_or_else(|| code.clone()));
    }
    if let Some(id) = row.organisation_id {
        if let Some(org) = organisations::get(conn, id).await? {
            return Ok(crate::domain::delegation::display_name(
                &org.name,
                org.acronym.as_deref(),
            ));
        }
    }
    Ok(String::new())
}

/// An instant in the conference's IANA time zone, `2026-10-20 18:00 (Asia/Bangkok)`.
fn local(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => format!(
            "{} ({zone})",
            at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
        ),
        Err(_) => format!("{} (UTC)", at.format("%Y-%m-%d %H:%M")),
    }
}

/// `GET /portal/`: the signed-in account's delegations (each with its conference).
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    let mut conn = state.conn().await?;
    let mut items = Vec::new();
    for of in focal_points::of_account(&mut conn, live.account_id).await? {
        let Ok(access) = standing::conference(
            &conn,
            Some(caller_of(&live)),
            of.conference_id,
            Need::ReadMembers(of.delegation_id),
        )
        .await
        else {
            continue;
        };
        let conference = Conference::from(access.conference);
        let row = delegations::get(&mut conn, of.conference_id, of.delegation_id).await?;
        items.push(json!({
            "href": delegation_path(of.conference_id, of.delegation_id),
            "delegation": delegation_name(&mut conn, &row).await?,
            "conference": conference.title,
            "dates": format!("{} – {}", conference.start_date, conference.end_date),
            "deadline": conference.nominations_close_at.map(|at| local(at, &conference.time_zone)),
        }));
    }
    view::page(
        StatusCode::OK,
        "home.html",
        json!({"session": session_view(Some(&live)), "delegations": items, "is_organiser": live.is_organiser}),
        Vec::new(),
    )
}

/// The portal page of a delegation.
fn delegation_path(conference_id: Uuid, delegation_id: Uuid) -> String {
    format!("/portal/conferences/{conference_id}/delegations/{delegation_id}")
}

/// Every member of a delegation, head first, then in the order added.
async fn all_members(
    conn: &mut diesel_async::AsyncPgConnection,
    delegation_id: Uuid,
) -> Result<Vec<Member>, ApiError> {
    let mut all: Vec<Member> = Vec::new();
    loop {
        let page = PageRequest::<MemberKey> {
            limit: 200,
            after: all.last().map(|m| (m.is_head, m.id)),
        };
        let got = members::list(conn, delegation_id, &page).await?;
        let done = got.next_cursor.is_none();
        all.extend(got.items);
        if done {
            return Ok(all);
        }
    }
}

/// What the delegation page shows besides its forms: the conference (dates, the deadline in
/// its zone), the delegation, quotas with the places left, the members and the credentials.
async fn delegation_view(
    state: &AppState,
    live: &Live,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<Map<String, Value>, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(
        &conn,
        Some(caller_of(live)),
        conference_id,
        Need::ReadMembers(delegation_id),
    )
    .await?;
    let conference = Conference::from(access.conference);
    let row = delegations::get(&mut conn, conference_id, delegation_id).await?;
    let name = delegation_name(&mut conn, &row).await?;
    let list = all_members(&mut conn, delegation_id).await?;
    let current = credentials::get(&mut conn, conference_id, delegation_id).await?;
    let counted = |category: Option<&str>| {
        list.iter()
            .filter(|m| m.nomination_status.as_str() != "rejected")
            .filter(|m| category.is_none_or(|c| m.category.as_str() == c))
            .count() as i64
    };
    let mut quotas = Vec::new();
    if let Some(q) = &conference.quotas {
        let limits = [
            (None, "quota_total", q.per_delegation),
            (
                Some("representative"),
                "category_representative",
                q.representative,
            ),
            (Some("alternate"), "category_alternate", q.alternate),
            (Some("adviser"), "category_adviser", q.adviser),
            (Some("expert"), "category_expert", q.expert),
            (Some("observer"), "category_observer", q.observer),
        ];
        for (category, key, limit) in limits {
            if let Some(limit) = limit {
                let used = counted(category);
                quotas.push(json!({
                    "label": text(key),
                    "limit": limit,
                    "used": used,
                    "left": (i64::from(limit) - used).max(0),
                }));
            }
        }
    }
    let now = Utc::now();
    let closed = conference.nominations_close_at.is_some_and(|at| at <= now);
    let members: Vec<Value> = list
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "href".into(),
                    format!(
                        "{}/members/{}",
                        delegation_path(conference_id, delegation_id),
                        m.id
                    )
                    .into(),
                );
                o.insert(
                    "category_label".into(),
                    text(&format!("category_{}", m.category.as_str())).into(),
                );
                o.insert(
                    "status_label".into(),
                    text(&format!("status_{}", m.nomination_status.as_str())).into(),
                );
            }
            v
        })
        .collect();
    let credentials = json!({
        "status": current.status.as_str(),
        "status_label": text(&format!("credentials_{}", current.status.as_str())),
        "submitted_at": current.submitted_at.map(|at| local(at, &conference.time_zone)),
        "reviewed_at": current.reviewed_at.map(|at| local(at, &conference.time_zone)),
        "bytes": current.bytes,
        "note": current.note,
    });
    let venue = [
        conference.venue.name.clone(),
        Some(conference.venue.city.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let mut page = Map::new();
    page.insert("session".into(), session_view(Some(live)));
    page.insert(
        "href".into(),
        delegation_path(conference_id, delegation_id).into(),
    );
    page.insert(
        "conference".into(),
        json!({
            "title": conference.title,
            "start_date": conference.start_date.to_string(),
            "end_date": conference.end_date.to_string(),
            "time_zone": conference.time_zone,
            "venue": venue,
            "deadline": conference.nominations_close_at.map(|at| local(at, &conference.time_zone)),
            "closed": closed,
        }),
    );
    page.insert(
        "delegation".into(),
        json!({"name": name, "authority": row.authority}),
    );
    page.insert("quotas".into(), quotas.into());
    page.insert("members".into(), members.into());
    page.insert("credentials".into(), credentials);
    page.insert("categories".into(), categories());
    page.insert("member_form".into(), json!({}));
    page.insert(
        "form_keys".into(),
        form_keys(&["member", "sheet", "credentials"]),
    );
    // The columns a focal point may send (the review columns are the secretariat's).
    let columns: Vec<&str> = sheet::MEMBER_COLUMNS
        .iter()
        .copied()
        .filter(|c| !c.starts_with("nomination_"))
        .collect();
    page.insert("sheet_columns".into(), columns.join(", ").into());
    Ok(page)
}

/// The member categories for the form's choice: value and label.
fn categories() -> Value {
    crate::domain::vocab::MemberCategory::ALL
        .iter()
        .map(|c| json!({"value": c, "label": text(&format!("category_{c}"))}))
        .collect()
}

/// `GET /portal/conferences/{id}/delegations/{delegation_id}`: the delegation's page.
/// Errors: 404 page for a delegation the account is not a focal point of.
pub async fn delegation(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    let (conference_id, delegation_id) = *path;
    let mut page = match delegation_view(&state, &live, conference_id, delegation_id).await {
        Ok(page) => page,
        Err(e) => return refused_page(&e, &live),
    };
    if let Some(flash) = flash_of(&req) {
        page.insert("flash".into(), flash.into());
    }
    view::page(
        StatusCode::OK,
        "delegation.html",
        Value::Object(page),
        Vec::new(),
    )
}

/// `?done=` of a redirect after a write: the strings key of what was done.
fn flash_of(req: &HttpRequest) -> Option<String> {
    let query = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()).ok()?;
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let done = value("done")?;
    let known = [
        "done_member_added",
        "done_member_changed",
        "done_member_removed",
        "done_sheet",
        "done_credentials",
    ];
    if !known.contains(&done) {
        return None;
    }
    // A spreadsheet's count, when the redirect gives it.
    match value("n").and_then(|n| n.parse::<u32>().ok()) {
        Some(n) if done == "done_sheet" => Some(format!("{n} {}", text("done_sheet_count"))),
        _ => Some(text(done)),
    }
}

/// The page of a read or write the API refuses outright (404, 403, 503...).
fn refused_page(e: &ApiError, live: &Live) -> Result<HttpResponse, ApiError> {
    if e.status_code().is_server_error() {
        if let ApiError::Internal(cause) = e {
            tracing::error!(%cause, "portal page failed");
        }
    }
    notice(e.status_code(), "refused_title", e.detail(), Some(live))
}

/// The member fields of the form, as the API's JSON member body: empty optional fields are
/// left out on a creation and cleared (`null`) on a change; `is_head` is the checkbox.
fn member_body(form: &Form, mode: Mode) -> Value {
    let mut body = Map::new();
    for name in [
        "full_name",
        "family_name",
        "native_name",
        "honorific",
        "title",
        "position",
        "email",
    ] {
        let value = field(form, name).map(str::trim).unwrap_or("");
        match (value.is_empty(), name, mode) {
            (false, _, _) => {
                body.insert(name.into(), value.into());
            }
            // An emptied name on a change is sent as it is, for the API's rule to refuse.
            (true, "full_name", Mode::Patch) => {
                body.insert(name.into(), "".into());
            }
            (true, "full_name", Mode::Create) => {}
            (true, _, Mode::Patch) => {
                body.insert(name.into(), Value::Null);
            }
            (true, _, Mode::Create) => {}
        }
    }
    if let Some(category) = field(form, "category").filter(|c| !c.is_empty()) {
        body.insert("category".into(), category.into());
    }
    body.insert("is_head".into(), field(form, "is_head").is_some().into());
    Value::Object(body)
}

/// The names of the member form's fields (where errors are shown).
const MEMBER_FIELDS: &[&str] = &[
    "full_name",
    "family_name",
    "native_name",
    "honorific",
    "title",
    "position",
    "email",
    "category",
    "is_head",
];

/// Whether a signed-in form is genuine, else the 403 page.
fn checked_form(
    req: &HttpRequest,
    state: &AppState,
    live: &Live,
    form: &Form,
) -> Option<HttpResponse> {
    (!signed_in_form_ok(req, state, live, field(form, "csrf")))
        .then(|| forged(Some(live)).unwrap_or_else(|e| e.error_response()))
}

/// The `form_key` of a form: 1 to 64 visible ASCII characters, else none (the write then
/// runs without one).
fn form_key_of(value: Option<&str>) -> Option<String> {
    value
        .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
}

/// A fresh key for each form of a page, by the form's name.
fn form_keys(names: &[&str]) -> Value {
    names
        .iter()
        .map(|n| {
            (
                (*n).to_string(),
                Value::from(crate::store::codes::new_code()),
            )
        })
        .collect::<Map<String, Value>>()
        .into()
}

/// Runs a form's write once per form ([`idempotency::once_per_form`]): a second submission
/// of the same form gets the first one's answer. A problem the key itself answers (the
/// first submission still running, the key reused by another form, a right lost since) is
/// shown as a page.
async fn write_once<F>(
    state: &AppState,
    live: &Live,
    key: Option<String>,
    hash: String,
    run: F,
) -> Result<HttpResponse, ApiError>
where
    F: std::future::Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key else {
        return run.await;
    };
    let answer = idempotency::once_per_form(state, caller_of(live), &key, &hash, run).await?;
    let is_problem = answer
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if !is_problem {
        return Ok(answer);
    }
    let message = match answer.status().as_u16() {
        409 => "form_running",
        422 => "form_reused",
        _ => "form_refused",
    };
    notice(answer.status(), "refused_title", text(message), Some(live))
}

/// The hash of a urlencoded form at `path` ([`idempotency::fingerprint`]).
fn hash_of_form(path: &str, body: &[u8]) -> String {
    idempotency::fingerprint(path, [body])
}

/// The delegation page again after a refused write, with its status: `form_key` (the
/// form that failed) gets `values`, `errors` and `error`.
async fn delegation_again(
    state: &AppState,
    live: &Live,
    ids: (Uuid, Uuid),
    error: &ApiError,
    form_key: &str,
    values: Value,
    shown: &[&str],
) -> Result<HttpResponse, ApiError> {
    let mut page = match delegation_view(state, live, ids.0, ids.1).await {
        Ok(page) => page,
        Err(e) => return refused_page(&e, live),
    };
    let (fields, general) = errors_of(error, shown);
    page.insert(
        form_key.into(),
        json!({"values": values, "errors": fields, "error": general}),
    );
    view::page(
        error.status_code(),
        "delegation.html",
        Value::Object(page),
        Vec::new(),
    )
}

/// `POST .../members` (the add form): one nomination, as `POST /api/v1/.../members` makes it
/// ([`members::create_all`]: quotas and the deadline under the delegation's lock, audit).
pub async fn add_member(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (live, form) = signed_in_form!(req, state, body);
    let ids = *path;
    let value = member_body(&form, Mode::Create);
    let input = write_input(&value, parse_member_post(&value)).map(MemberPost::into_items);
    let done = format!("{}?done=done_member_added", delegation_path(ids.0, ids.1));
    let key = form_key_of(field(&form, "form_key"));
    let hash = hash_of_form(req.path(), &body);
    write_once(&state, &live, key, hash, async {
        let mut conn = state.conn().await?;
        let write = members::create_all(&mut conn, Some(caller_of(&live)), ids.0, ids.1, input);
        match respond(write, move |_| see_other(&done, Vec::new())).await {
            Ok(res) => Ok(res),
            Err(e) => {
                delegation_again(&state, &live, ids, &e, "member_form", value, MEMBER_FIELDS).await
            }
        }
    })
    .await
}

/// `GET .../members/{member_id}`: the form to change or remove a member.
pub async fn member_form(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    member_page(&state, &live, *path, StatusCode::OK, None, None).await
}

/// The member page: the member's form (`values` and `error` after a refused change).
async fn member_page(
    state: &AppState,
    live: &Live,
    (conference_id, delegation_id, member_id): (Uuid, Uuid, Uuid),
    status: StatusCode,
    values: Option<Value>,
    error: Option<&ApiError>,
) -> Result<HttpResponse, ApiError> {
    let page = match delegation_view(state, live, conference_id, delegation_id).await {
        Ok(page) => page,
        Err(e) => return refused_page(&e, live),
    };
    let member = page
        .get("members")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find(|m| m["id"] == json!(member_id)))
        .cloned();
    let Some(member) = member else {
        return refused_page(
            &ApiError::NotFound("no such member in this delegation".into()),
            live,
        );
    };
    let (fields, general) = error
        .map(|e| errors_of(e, MEMBER_FIELDS))
        .unwrap_or_default();
    view::page(
        status,
        "member.html",
        json!({
            "session": page.get("session"),
            "conference": page.get("conference"),
            "delegation": page.get("delegation"),
            "back": delegation_path(conference_id, delegation_id),
            "member": member,
            "values": values.unwrap_or_else(|| member.clone()),
            "errors": fields,
            "error": general,
            "categories": categories(),
            "form_keys": form_keys(&["change", "remove"]),
        }),
        Vec::new(),
    )
}

/// `POST .../members/{member_id}` (the change form): as `PATCH` of the API
/// ([`members::update`]: a focal point's change puts the member back to `nominated`).
pub async fn change_member(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (live, form) = signed_in_form!(req, state, body);
    let ids = *path;
    let value = member_body(&form, Mode::Patch);
    let input = write_input(&value, parse_member(&value, Mode::Patch));
    let done = format!("{}?done=done_member_changed", delegation_path(ids.0, ids.1));
    let key = form_key_of(field(&form, "form_key"));
    let hash = hash_of_form(req.path(), &body);
    write_once(&state, &live, key, hash, async {
        let mut conn = state.conn().await?;
        let write = members::update(
            &mut conn,
            caller_of(&live),
            ids.0,
            ids.1,
            ids.2,
            &IfMatch::Absent,
            input,
        );
        match respond(write, move |_| see_other(&done, Vec::new())).await {
            Ok(res) => Ok(res),
            Err(e) => member_page(&state, &live, ids, e.status_code(), Some(value), Some(&e)).await,
        }
    })
    .await
}

/// `POST .../members/{member_id}/delete`: as `DELETE` of the API ([`members::delete`]).
pub async fn remove_member(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (live, form) = signed_in_form!(req, state, body);
    let ids = *path;
    let done = format!("{}?done=done_member_removed", delegation_path(ids.0, ids.1));
    let key = form_key_of(field(&form, "form_key"));
    let hash = hash_of_form(req.path(), &body);
    write_once(&state, &live, key, hash, async {
        let mut conn = state.conn().await?;
        let write = members::delete(
            &mut conn,
            caller_of(&live),
            ids.0,
            ids.1,
            ids.2,
            &IfMatch::Absent,
        );
        match respond(write, move |_| see_other(&done, Vec::new())).await {
            Ok(res) => Ok(res),
            Err(e) => member_page(&state, &live, ids, e.status_code(), None, Some(&e)).await,
        }
    })
    .await
}

/// One uploaded file of a multipart form, with the form's `csrf`.
struct Upload {
    csrf: Option<String>,
    form_key: Option<String>,
    filename: Option<String>,
    media_type: Option<String>,
    bytes: Vec<u8>,
}

impl Upload {
    /// The hash of the upload ([`idempotency::fingerprint`]): its token, file name and bytes.
    fn hash(&self, path: &str) -> String {
        idempotency::fingerprint(
            path,
            [
                self.csrf.as_deref().unwrap_or("").as_bytes(),
                self.filename.as_deref().unwrap_or("").as_bytes(),
                self.bytes.as_slice(),
            ],
        )
    }
}

/// Reads a `multipart/form-data` body: the field `csrf` and the file field `file` (at most
/// `max` bytes). Errors: 400 for a body that is not a multipart form, 413 past `max`.
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
) -> Result<Upload, ApiError> {
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::BadRequest(text("multipart_expected")));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut upload = Upload {
        csrf: None,
        form_key: None,
        filename: None,
        media_type: None,
        bytes: Vec::new(),
    };
    while let Some(part) = multipart.next().await {
        let mut part =
            part.map_err(|e| ApiError::BadRequest(format!("the form is malformed: {e}")))?;
        let name = part.name().unwrap_or("").to_string();
        let filename = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let media_type = part
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase());
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::BadRequest(format!("the form is malformed: {e}")))?;
            if bytes.len() + chunk.len() > max {
                return Err(ApiError::PayloadTooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8(bytes).ok(),
            "form_key" => upload.form_key = String::from_utf8(bytes).ok(),
            "file" => {
                upload.filename = filename;
                upload.media_type = media_type;
                upload.bytes = bytes;
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST .../members/sheet` (multipart: `file`, a CSV or XLSX of one member a row with the
/// columns of `participants.csv`): the nominations all or nothing, as a spreadsheet `POST`
/// to the API ([`sheet::parse_member_sheet`], [`members::create_all`]); errors name the row
/// and column.
pub async fn upload_sheet(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    let ids = *path;
    let upload = match read_upload(&req, payload, crate::http::request::MAX_BODY_BYTES).await {
        Ok(upload) => upload,
        Err(e) => {
            return delegation_again(&state, &live, ids, &e, "sheet_form", Value::Null, &[]).await
        }
    };
    if !signed_in_form_ok(&req, &state, &live, upload.csrf.as_deref()) {
        return forged(Some(&live));
    }
    let is_xlsx = upload.media_type.as_deref() == Some(sheet::XLSX)
        || upload
            .filename
            .as_deref()
            .is_some_and(|f| f.to_ascii_lowercase().ends_with(".xlsx"));
    let input = if upload.bytes.is_empty() {
        Input {
            fields: Vec::new(),
            parsed: Err(vec![crate::domain::input::FieldError::new(
                "file",
                text("sheet_missing"),
            )]),
        }
    } else {
        sheet_input(&upload.bytes, is_xlsx)
    }
    .map(MemberPost::into_items);
    let page = delegation_path(ids.0, ids.1);
    let key = form_key_of(upload.form_key.as_deref());
    let hash = upload.hash(req.path());
    write_once(&state, &live, key, hash, async {
        let mut conn = state.conn().await?;
        let write = members::create_all(&mut conn, Some(caller_of(&live)), ids.0, ids.1, input);
        let answer = respond(write, move |saved: &Vec<members::MemberRow>| {
            see_other(
                &format!("{page}?done=done_sheet&n={}", saved.len()),
                Vec::new(),
            )
        });
        match answer.await {
            Ok(res) => Ok(res),
            Err(e) => {
                delegation_again(&state, &live, ids, &e, "sheet_form", Value::Null, &[]).await
            }
        }
    })
    .await
}

/// `POST .../credentials` (multipart: `file`, the letter of credentials as a PDF): as the
/// API's `PUT .../credentials` ([`check_pdf`], [`credentials::submit`]).
pub async fn upload_credentials(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    let ids = *path;
    let upload = match read_upload(&req, payload, MAX_DOCUMENT_BYTES).await {
        Ok(upload) => upload,
        Err(e) => {
            return delegation_again(
                &state,
                &live,
                ids,
                &e,
                "credentials_form",
                Value::Null,
                &["file"],
            )
            .await
        }
    };
    if !signed_in_form_ok(&req, &state, &live, upload.csrf.as_deref()) {
        return forged(Some(&live));
    }
    let pdf = upload.bytes;
    let (pdf, checked) = web::block(move || {
        let checked = check_pdf(&pdf);
        (pdf, checked)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("checking a PDF: {e}")))?;
    if let Err(message) = checked {
        let e = ApiError::field("file", message);
        return delegation_again(
            &state,
            &live,
            ids,
            &e,
            "credentials_form",
            Value::Null,
            &["file"],
        )
        .await;
    }
    let done = format!("{}?done=done_credentials", delegation_path(ids.0, ids.1));
    let key = form_key_of(upload.form_key.as_deref());
    let hash = idempotency::fingerprint(
        req.path(),
        [
            upload.csrf.as_deref().unwrap_or("").as_bytes(),
            pdf.as_slice(),
        ],
    );
    write_once(&state, &live, key, hash, async {
        let mut conn = state.conn().await?;
        let write = credentials::submit(
            &mut conn,
            caller_of(&live),
            ids.0,
            ids.1,
            &IfMatch::Absent,
            &pdf,
        );
        match respond(write, move |_| see_other(&done, Vec::new())).await {
            Ok(res) => Ok(res),
            Err(e) => {
                delegation_again(
                    &state,
                    &live,
                    ids,
                    &e,
                    "credentials_form",
                    Value::Null,
                    &["file"],
                )
                .await
            }
        }
    })
    .await
}

/// `GET .../credentials/document`: the PDF the delegation submitted, as the API serves it
/// ([`crate::http::respond::pdf_attachment`]).
pub async fn credentials_document(
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = signed_in_or_redirect!(req, state);
    let (conference_id, delegation_id) = *path;
    let mut conn = state.conn().await?;
    let found = async {
        standing::conference(
            &conn,
            Some(caller_of(&live)),
            conference_id,
            Need::ReadCredentials(delegation_id),
        )
        .await?;
        credentials::document(&mut conn, conference_id, delegation_id).await
    }
    .await;
    match found {
        Ok(pdf) => Ok(crate::http::respond::pdf_attachment(
            "application/pdf",
            &format!("credentials-{delegation_id}.pdf"),
            pdf,
        )),
        Err(e) => refused_page(&ApiError::from(e), &live),
    }
}
