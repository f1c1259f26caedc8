//! File exports of a conference, public like its attendance:
//! - `GET /api/v1/conferences/{id}/attendance.csv` (RFC 4180, one row per delegation, every
//!   status),
//! - `GET /api/v1/conferences/{id}/participants.csv` (one row per member; who may read it as
//!   for `/participants`),
//! - `GET /api/v1/conferences/{id}/participants.html` (the printable list, rendered by
//!   [`crate::export::participants`]; who may read it as for `/participants`),
//! - `GET /api/v1/conferences/{id}/sessions.ics` (RFC 5545, one `VEVENT` per session).
//!
//! The paths are registered as their own resources ahead of nothing else: `attendance.csv` is a
//! literal segment, so it never reaches the `{id}`-only routes.

use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::access::Audience;
use crate::access::Need;
use crate::auth::MaybeCaller;
use crate::domain::input::Errors;
use crate::error::ApiError;
use crate::export::{calendar, participants as printable, table};
use crate::http::params::order_param;
use crate::http::request::parse_query;
use crate::http::respond::{self, file};
use crate::state::AppState;
use crate::store::attendance::{sort_name, Order};
use crate::store::participants;
use crate::store::standing;
use crate::store::{presence, protocol};

/// The columns of `attendance.csv`.
pub const ATTENDANCE_COLUMNS: &[&str] = &[
    "protocol_position",
    "party",
    "country",
    "organisation_id",
    "name",
    "acronym",
    "authority",
    "role",
    "status",
    "counts",
    "size",
    "head_name",
    "head_title",
    "sessions_attended",
];

/// `GET /conferences/{id}/attendance.csv?order=protocol|name` (default `protocol`): one row
/// per delegation whatever its status (`counts` says whether it counts as attendance), with
/// its position in protocol order and the number of sessions it was present at.
/// `Content-Type: text/csv; charset=utf-8`. Errors: 404, 422 (`order`).
pub async fn attendance_csv(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_query(&req)?;
    let mut errors = Errors::new();
    let order = order_param(&query, Order::Protocol, &mut errors);
    errors.check()?;
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::Read).await?;
    let id = access.conference.id;
    let lines = protocol::lines(&mut conn, &state.countries, id).await?;
    let attended = presence::sessions_attended(&mut conn, id).await?;
    let mut numbered: Vec<(usize, protocol::Line)> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    if order == Order::Name {
        numbered.sort_by_cached_key(|(_, l)| (sort_name(&l.name), l.delegation.id));
    }
    let rows = numbered.into_iter().map(|(position, l)| {
        let counts = l.counts();
        let d = l.delegation;
        let head = d.head();
        vec![
            position.to_string(),
            if d.country.is_some() {
                "state"
            } else {
                "organisation"
            }
            .to_string(),
            table::opt(&d.country),
            table::opt(&d.organisation_id),
            l.name,
            table::opt(&l.acronym),
            table::opt(&d.authority),
            d.role.to_string(),
            d.status.to_string(),
            counts.to_string(),
            table::opt(&d.size),
            table::opt(&head.as_ref().map(|h| h.name.clone())),
            table::opt(&head.and_then(|h| h.title)),
            attended.get(&d.id).copied().unwrap_or(0).to_string(),
        ]
    });
    let body = table::to_csv(ATTENDANCE_COLUMNS, rows)?;
    Ok(file(
        &req,
        table::CONTENT_TYPE,
        format!("attendance-{id}.csv"),
        body,
    ))
}

/// `GET /conferences/{id}/participants.csv`: the list of participants, one row per member
/// (a delegation without members has one row with empty member cells), delegations in the
/// order of `/participants` (by section, protocol order within each; the `section` column),
/// members head first. Read rights as `/participants`; the `email` column
/// only for the conference's organisers. Errors: 404.
pub async fn participants_csv(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::ReadParticipants).await?;
    let (audience, conference) = (access.audience(), access.conference);
    let id = conference.id;
    let list =
        participants::of_conference(&mut conn, &state.countries, conference, audience).await?;
    let body = table::participants_csv(list.delegations, audience == Audience::Organisers)?;
    Ok(file(
        &req,
        table::CONTENT_TYPE,
        format!("participants-{id}.csv"),
        body,
    ))
}

/// `GET /conferences/{id}/participants.html`: the printable list of participants (A4), the
/// same list as `/participants` (same readers; never an email, not even for organisers)
/// rendered by [`printable::render_html`]. `Content-Type: text/html; charset=utf-8`, a
/// `Content-Security-Policy` that lets nothing load ([`printable::CONTENT_SECURITY_POLICY`]),
/// a strong `ETag` (304 on a matching `If-None-Match`). Errors: 404.
pub async fn participants_html(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::ReadParticipants).await?;
    let list = participants::of_conference(
        &mut conn,
        &state.countries,
        access.conference,
        Audience::Public,
    )
    .await?;
    Ok(respond::printable(&req, printable::render_html(&list)?))
}

/// `GET /conferences/{id}/sessions.ics`: the sessions as an RFC 5545 calendar in the
/// conference's time zone (see [`calendar`]). `Content-Type: text/calendar; charset=utf-8`.
/// Errors: 404.
pub async fn sessions_ics(
    req: HttpRequest,
    path: web::Path<Uuid>,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let access = standing::conference(&conn, caller.0, *path, Need::Read).await?;
    let c = &access.conference;
    let sessions = presence::sessions_in_order(&mut conn, c.id).await?;
    let country = state
        .countries
        .name(&c.venue_country)
        .unwrap_or(&c.venue_country);
    let location: Vec<&str> = [c.venue_name.as_deref(), Some(c.venue_city.as_str())]
        .into_iter()
        .chain([c.venue_region.as_deref(), Some(country)])
        .flatten()
        .collect();
    let body = calendar::sessions_ics(c, &location.join(", "), &sessions);
    Ok(file(
        &req,
        calendar::CONTENT_TYPE,
        format!("sessions-{}.ics", c.id),
        body,
    ))
}
