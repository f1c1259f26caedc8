//! Per-session attendance: which delegations were present at each session of a conference,
//! as recorded by its organisers (table `session_presence`), and the presence matrix
//! (delegations x sessions).
//!
//! Presence is separate from a session's `delegation_ids` (the delegations expected to take
//! part): a delegation may be expected and absent, or present without being listed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::country::CountryIndex;

use super::attendance::{sort_name, Order};
use super::audit::ResourceKind;
use super::conferences::ConferenceRow;
use super::protocol::{self, Line};
use super::sessions::SessionRow;
use super::write::{self, Audited, Input, Scope};
use super::{Caller, StoreError};
use crate::access::Need;
use crate::db::schema::{session_presence, sessions};
use crate::domain::conference::Conference;
use crate::domain::precondition::IfMatch;
use crate::domain::session::format_in_zone;

/// `GET`/`PUT /conferences/{id}/sessions/{sid}/attendance`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionAttendance {
    /// The session.
    pub session_id: Uuid,
    /// Delegations present, in protocol order.
    pub delegation_ids: Vec<Uuid>,
    /// When presence at this session was last recorded (RFC 3339), null if never.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Where each present delegation's presence comes from: `check_in` when one of its
    /// members was scanned `in` to the session (evidence), else `manual` (a `PUT`).
    pub sources: std::collections::BTreeMap<Uuid, &'static str>,
    /// How many members were scanned `in` to the session.
    pub members_present: i64,
    /// States that count (`registered`, `confirmed`, `attended`) and those of them present:
    /// the quorum figure.
    pub states: StateCount,
}

/// States registered for the conference and present at a session.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct StateCount {
    /// States whose delegation counts.
    pub registered: i64,
    /// Of those, the ones present.
    pub present: i64,
}

#[derive(diesel::QueryableByName)]
struct Scanned {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    delegation_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    members: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    recorded_at: DateTime<Utc>,
}

/// Checks that the session belongs to the conference, locking its row (`FOR NO KEY UPDATE`)
/// when `lock`. Errors: 404.
async fn session_of(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    session_id: Uuid,
    lock: bool,
) -> Result<(), StoreError> {
    let query = sessions::table
        .filter(sessions::conference_id.eq(conference_id))
        .filter(sessions::id.eq(session_id))
        .select(sessions::id);
    let found: Option<Uuid> = if lock {
        query.for_no_key_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    found
        .map(|_| ())
        .ok_or_else(|| StoreError::not_found("no such session in this conference"))
}

/// The delegations present at a session, in protocol order. Errors: 404 when the session is
/// not one of this conference's.
pub async fn get(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference_id: Uuid,
    session_id: Uuid,
) -> Result<SessionAttendance, StoreError> {
    session_of(conn, conference_id, session_id, false).await?;
    let rows: Vec<(Uuid, DateTime<Utc>)> = session_presence::table
        .filter(session_presence::session_id.eq(session_id))
        .select((
            session_presence::delegation_id,
            session_presence::recorded_at,
        ))
        .load(conn)
        .await?;
    let manual: HashSet<Uuid> = rows.iter().map(|(d, _)| *d).collect();
    // Presence from evidence: a delegation one of whose members was scanned `in`.
    let scanned: Vec<Scanned> = diesel::sql_query(
        "SELECT delegation_id, count(DISTINCT member_id) AS members, max(recorded_at) AS recorded_at \
         FROM check_ins WHERE conference_id = $1 AND session_id = $2 AND direction = 'in' \
         GROUP BY delegation_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(conference_id)
    .bind::<diesel::sql_types::Uuid, _>(session_id)
    .load(conn)
    .await?;
    let evidence: HashSet<Uuid> = scanned.iter().map(|s| s.delegation_id).collect();
    let recorded_at = rows
        .iter()
        .map(|(_, at)| *at)
        .chain(scanned.iter().map(|s| s.recorded_at))
        .max();
    let members_present = scanned.iter().map(|s| s.members).sum();
    let mut delegation_ids = Vec::new();
    let mut sources = std::collections::BTreeMap::new();
    let mut states = StateCount {
        registered: 0,
        present: 0,
    };
    for line in protocol::lines(conn, countries, conference_id).await? {
        let d = &line.delegation;
        let present = evidence.contains(&d.id) || manual.contains(&d.id);
        if d.country.is_some() && d.status.counts() {
            states.registered += 1;
            if present {
                states.present += 1;
            }
        }
        if present {
            delegation_ids.push(d.id);
            let source = if evidence.contains(&d.id) {
                "check_in"
            } else {
                "manual"
            };
            sources.insert(d.id, source);
        }
    }
    Ok(SessionAttendance {
        session_id,
        delegation_ids,
        recorded_at,
        sources,
        members_present,
        states,
    })
}

/// Replaces the delegations present at a session with `ids`, in one transaction that locks the
/// session row (`FOR NO KEY UPDATE`; concurrent replacements apply one after the other), checks
/// `If-Match` against the current state, and records the change in the audit log (`update` of
/// resource type `session_attendance`, id the session's). Delegations already present keep
/// their `recorded_at`; `recorded_by` is the caller.
///
/// Errors, in this order: the access check (organisers, [`Need::Write`]); 404 when the
/// session is not one of this conference's (whatever the body); 422 (the body); 412 (stale
/// `If-Match`); 422 (`delegation_ids`) when an id is not a delegation of this conference.
pub async fn set(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    caller: Caller,
    conference_id: Uuid,
    session_id: Uuid,
    if_match: &IfMatch,
    input: Input<Vec<Uuid>>,
) -> Result<SessionAttendance, StoreError> {
    write::update(
        conn,
        Scope::conference(caller, conference_id, Need::Write, if_match),
        async |conn| {
            session_of(conn, conference_id, session_id, true).await?;
            input.value()?;
            get(conn, countries, conference_id, session_id).await
        },
        async |conn, _| {
            let ids = input.value()?;
            protocol::check_same_conference(conn, conference_id, &ids, "delegation_ids").await?;
            diesel::delete(
                session_presence::table
                    .filter(session_presence::session_id.eq(session_id))
                    .filter(diesel::dsl::not(
                        session_presence::delegation_id.eq_any(ids.clone()),
                    )),
            )
            .execute(conn)
            .await?;
            let rows: Vec<_> = ids
                .iter()
                .map(|d| {
                    (
                        session_presence::session_id.eq(session_id),
                        session_presence::delegation_id.eq(*d),
                        session_presence::conference_id.eq(conference_id),
                        session_presence::recorded_by.eq(Some(caller.id)),
                    )
                })
                .collect();
            if !rows.is_empty() {
                diesel::insert_into(session_presence::table)
                    .values(&rows)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
            get(conn, countries, conference_id, session_id).await
        },
    )
    .await
}

impl Audited for SessionAttendance {
    const KIND: ResourceKind = ResourceKind::SessionAttendance;
    type Repr = SessionAttendance;
    fn id(&self) -> Uuid {
        self.session_id
    }
    fn repr(&self) -> SessionAttendance {
        self.clone()
    }
}

/// A column of the presence matrix.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MatrixSession {
    /// The session.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: String,
    /// RFC 3339 with the conference zone's offset.
    pub starts_at: String,
    /// RFC 3339 with the conference zone's offset.
    pub ends_at: String,
    /// Number of delegations present.
    pub present: usize,
}

/// A row of the presence matrix.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MatrixRow {
    /// The delegation.
    pub delegation_id: Uuid,
    /// Alpha-2 of a state's delegation, else null.
    pub country: Option<String>,
    /// The organisation of an organisation's delegation, else null.
    pub organisation_id: Option<Uuid>,
    /// English short name of the state, or the organisation's name.
    pub name: String,
    /// Role at the conference.
    pub role: crate::domain::vocab::DelegationRole,
    /// Delegation status.
    pub status: crate::domain::vocab::DelegationStatus,
    /// One flag per session, in the order of `sessions`: present or not.
    pub present: Vec<bool>,
    /// Number of sessions the delegation was present at.
    pub sessions_attended: usize,
}

/// `GET /conferences/{id}/attendance?by=session`: every delegation of the conference (any
/// status) against every session (in time order).
#[derive(Debug, Clone, Serialize)]
pub struct PresenceMatrix {
    /// The conference.
    pub conference: Conference,
    /// Columns: the sessions in time order.
    pub sessions: Vec<MatrixSession>,
    /// Rows: the delegations in the requested order.
    pub delegations: Vec<MatrixRow>,
}

/// Every session of a conference in time order (start, then id).
pub async fn sessions_in_order(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::conference_id.eq(conference_id))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)
        .await
}

#[derive(diesel::QueryableByName)]
struct PresentPair {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    session_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    delegation_id: Uuid,
}

/// Every `(session, delegation)` present of a conference: recorded by hand (`PUT`) or from
/// evidence (a member of the delegation scanned `in` to the session). The one statement of
/// presence for the matrix and the counts.
async fn present_pairs(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<HashSet<(Uuid, Uuid)>> {
    let rows: Vec<PresentPair> = diesel::sql_query(
        "SELECT session_id, delegation_id FROM session_presence WHERE conference_id = $1 \
         UNION SELECT session_id, delegation_id FROM check_ins \
         WHERE conference_id = $1 AND direction = 'in' AND session_id IS NOT NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(conference_id)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.session_id, r.delegation_id))
        .collect())
}

/// The number of sessions each delegation of a conference was present at (absent: 0), by
/// hand or from evidence.
pub async fn sessions_attended(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<HashMap<Uuid, i64>> {
    let mut counts: HashMap<Uuid, i64> = HashMap::new();
    for (_, d) in present_pairs(conn, conference_id).await? {
        *counts.entry(d).or_default() += 1;
    }
    Ok(counts)
}

/// Builds the presence matrix of a conference; rows in protocol order, or by name.
pub async fn matrix(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference: ConferenceRow,
    order: Order,
) -> QueryResult<PresenceMatrix> {
    let session_rows = sessions_in_order(conn, conference.id).await?;
    let present = present_pairs(conn, conference.id).await?;
    let mut lines: Vec<Line> = protocol::lines(conn, countries, conference.id).await?;
    if order == Order::Name {
        lines.sort_by_cached_key(|l| (sort_name(&l.name), l.delegation.id));
    }
    let mut per_session: HashMap<Uuid, usize> = HashMap::new();
    let delegations = lines
        .into_iter()
        .map(|l| {
            let flags: Vec<bool> = session_rows
                .iter()
                .map(|s| present.contains(&(s.id, l.delegation.id)))
                .collect();
            for (s, _) in session_rows.iter().zip(&flags).filter(|(_, f)| **f) {
                *per_session.entry(s.id).or_default() += 1;
            }
            MatrixRow {
                delegation_id: l.delegation.id,
                country: l.delegation.country,
                organisation_id: l.delegation.organisation_id,
                name: l.name,
                role: l.delegation.role,
                status: l.delegation.status,
                sessions_attended: flags.iter().filter(|f| **f).count(),
                present: flags,
            }
        })
        .collect();
    let tz = conference.tz();
    let sessions = session_rows
        .into_iter()
        .map(|s| MatrixSession {
            present: per_session.get(&s.id).copied().unwrap_or(0),
            id: s.id,
            title: s.title,
            kind: s.kind,
            starts_at: format_in_zone(s.starts_at, tz),
            ends_at: format_in_zone(s.ends_at, tz),
        })
        .collect();
    Ok(PresenceMatrix {
        conference: conference.into(),
        sessions,
        delegations,
    })
}
