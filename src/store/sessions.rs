//! Sessions of a conference and the delegations taking part in them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::conferences::ConferenceRow;
use super::write::{self, Audited, Input, Scope, Tx, UNCONDITIONAL};
use super::{new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::{session_delegations, sessions};
use crate::domain::input::Errors;
use crate::domain::precondition::IfMatch;
use crate::domain::session::{check_times, format_in_zone, parse_instant, Session, SessionChanges};

/// A session row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct SessionRow {
    /// UUID v7.
    pub id: Uuid,
    /// Conference.
    pub conference_id: Uuid,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Room.
    pub room: Option<String>,
    /// Chair.
    pub chair: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl SessionRow {
    /// The API shape, with times in the conference's zone.
    pub fn render(self, conference: &ConferenceRow, delegation_ids: Vec<Uuid>) -> Session {
        let tz = conference.tz();
        Session {
            id: self.id,
            conference_id: self.conference_id,
            title: self.title,
            kind: self.kind,
            starts_at: format_in_zone(self.starts_at, tz),
            ends_at: format_in_zone(self.ends_at, tz),
            room: self.room,
            chair: self.chair,
            delegation_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Applies changes to `row`, reading times in the conference's zone and checking them against
/// its dates. Errors: 422 naming `starts_at`/`ends_at`.
fn apply(
    row: &mut SessionRow,
    conference: &ConferenceRow,
    c: &SessionChanges,
) -> Result<(), StoreError> {
    let tz = conference.tz();
    let mut errors = Errors::new();
    if let Some(v) = &c.title {
        row.title = v.clone();
    }
    if let Some(v) = c.kind {
        row.kind = v.to_string();
    }
    if let Some(v) = &c.room {
        row.room = v.clone();
    }
    if let Some(v) = &c.chair {
        row.chair = v.clone();
    }
    for (field, input, target) in [
        ("starts_at", &c.starts_at, &mut row.starts_at),
        ("ends_at", &c.ends_at, &mut row.ends_at),
    ] {
        if let Some(raw) = input {
            match parse_instant(raw, tz) {
                Ok(t) => *target = t,
                Err(m) => errors.push(field, m),
            }
        }
    }
    if errors.is_empty() {
        check_times(
            row.starts_at,
            row.ends_at,
            tz,
            conference.start_date,
            conference.end_date,
            &mut errors,
        );
    }
    row.updated_at = Utc::now();
    Ok(errors.into_fields()?)
}

/// Replaces the delegations of a session after checking they belong to its conference.
/// Errors: 422 naming `delegation_ids`.
async fn set_delegations(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    session_id: Uuid,
    ids: &[Uuid],
) -> Result<(), StoreError> {
    super::protocol::check_same_conference(conn, conference_id, ids, "delegation_ids").await?;
    diesel::delete(
        session_delegations::table.filter(session_delegations::session_id.eq(session_id)),
    )
    .execute(conn)
    .await?;
    let rows: Vec<_> = ids
        .iter()
        .map(|d| {
            (
                session_delegations::session_id.eq(session_id),
                session_delegations::delegation_id.eq(*d),
                session_delegations::conference_id.eq(conference_id),
            )
        })
        .collect();
    diesel::insert_into(session_delegations::table)
        .values(&rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Delegation ids of each of `session_ids`, in id order.
async fn delegations_of(
    conn: &mut AsyncPgConnection,
    session_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Uuid>>> {
    let pairs: Vec<(Uuid, Uuid)> = session_delegations::table
        .filter(session_delegations::session_id.eq_any(session_ids))
        .order((
            session_delegations::session_id,
            session_delegations::delegation_id,
        ))
        .select((
            session_delegations::session_id,
            session_delegations::delegation_id,
        ))
        .load(conn)
        .await?;
    let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (s, d) in pairs {
        map.entry(s).or_default().push(d);
    }
    Ok(map)
}

/// The keyset of the session list: start time, then id.
pub type SessionKey = (DateTime<Utc>, Uuid);

/// Sessions of a conference in time order.
pub async fn list(
    conn: &mut AsyncPgConnection,
    conference: &ConferenceRow,
    page: &PageRequest<SessionKey>,
) -> QueryResult<Page<Session>> {
    let mut query = sessions::table
        .filter(sessions::conference_id.eq(conference.id))
        .select(SessionRow::as_select())
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some((at, id)) = page.after {
        query = query.filter(
            sessions::starts_at
                .gt(at)
                .or(sessions::starts_at.eq(at).and(sessions::id.gt(id))),
        );
    }
    let rows: Vec<SessionRow> = query.load(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut links = delegations_of(conn, &ids).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| (r.starts_at, r.id),
        |r| {
            let d = links.remove(&r.id).unwrap_or_default();
            r.render(conference, d)
        },
    ))
}

impl Audited for Session {
    const KIND: ResourceKind = ResourceKind::Session;
    type Repr = Session;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Session {
        self.clone()
    }
}

const NO_SUCH_SESSION: &str = "no such session in this conference";

/// One session with its delegations. Errors: 404.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference: &ConferenceRow,
    id: Uuid,
) -> Result<Session, StoreError> {
    let row: SessionRow = sessions::table
        .filter(sessions::conference_id.eq(conference.id))
        .filter(sessions::id.eq(id))
        .select(SessionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_SESSION))?;
    let mut links = delegations_of(conn, &[id]).await?;
    Ok(row.render(conference, links.remove(&id).unwrap_or_default()))
}

/// Creates a session of conference `conference_id` (audited when `caller` is an organiser, who
/// must be allowed to change the conference: [`Need::Write`], checked first). Errors, in this
/// order: the access check, 422 (the body; times, delegations of another conference).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    input: Input<SessionChanges>,
) -> Result<Session, StoreError> {
    let scope = Scope {
        actor: caller,
        conference: caller.map(|_| (conference_id, Need::Write)),
        if_match: UNCONDITIONAL,
    };
    write::run(conn, scope, async |tx| {
        let conference = conference_of(tx, conference_id).await?;
        let c = input.value()?;
        let now = Utc::now();
        let mut row = SessionRow {
            id: new_id(),
            conference_id,
            title: String::new(),
            kind: "plenary".to_string(),
            starts_at: now,
            ends_at: now,
            room: None,
            chair: None,
            created_at: now,
            updated_at: now,
        };
        apply(&mut row, &conference, &c)?;
        let ids = c.delegation_ids.unwrap_or_default();
        let saved: SessionRow = diesel::insert_into(sessions::table)
            .values(&row)
            .returning(SessionRow::as_returning())
            .get_result(tx.conn)
            .await?;
        set_delegations(tx.conn, conference_id, saved.id, &ids).await?;
        let saved = saved.render(&conference, ids);
        tx.created(&saved);
        Ok(saved)
    })
    .await
}

/// The conference a write is under: the row the access check read ([`write::Tx::access`]),
/// or, for the importer's writes (which have no access check), read here. Errors: 404.
async fn conference_of(tx: &mut Tx<'_>, id: Uuid) -> Result<ConferenceRow, StoreError> {
    if let Some(access) = tx.access() {
        return Ok(access.conference.clone());
    }
    super::conferences::with_role(tx.conn, id, None)
        .await?
        .map(|(conference, _)| conference)
        .ok_or_else(|| StoreError::not_found("no such conference"))
}

/// Loads a session for update with its delegations, rendered. Errors: 404.
async fn lock(
    conn: &mut AsyncPgConnection,
    conference: &ConferenceRow,
    id: Uuid,
) -> Result<(SessionRow, Session), StoreError> {
    let row: SessionRow = sessions::table
        .filter(sessions::conference_id.eq(conference.id))
        .filter(sessions::id.eq(id))
        .for_update()
        .select(SessionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_SESSION))?;
    let mut links = delegations_of(conn, &[id]).await?;
    let rendered = row
        .clone()
        .render(conference, links.remove(&id).unwrap_or_default());
    Ok((row, rendered))
}

/// Changes a session of conference `conference_id` if `if_match` holds (audited; organisers,
/// [`Need::Write`]). Errors, in this order: the access check, 404, 422 (the body), 412, 422
/// (times, delegations).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
    input: Input<SessionChanges>,
) -> Result<Session, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, if_match);
    write::run(conn, scope, async |tx| {
        let conference = conference_of(tx, conference_id).await?;
        // Existence before validation: a session of another conference is 404, whatever the
        // body.
        let (mut row, before) = lock(tx.conn, &conference, id).await?;
        let c = input.value()?;
        tx.precondition(&before)?;
        apply(&mut row, &conference, &c)?;
        diesel::update(sessions::table.find(id))
            .set(&row)
            .execute(tx.conn)
            .await?;
        if let Some(ids) = &c.delegation_ids {
            set_delegations(tx.conn, conference_id, id, ids).await?;
        }
        let (_, after) = lock(tx.conn, &conference, id).await?;
        tx.updated(&before, &after);
        Ok(after)
    })
    .await
}

/// Deletes a session of conference `conference_id` if `if_match` holds (audited; organisers,
/// [`Need::Write`]). Errors: the access check, 404, 412.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, if_match);
    write::run(conn, scope, async |tx| {
        let conference = conference_of(tx, conference_id).await?;
        let (_, before) = lock(tx.conn, &conference, id).await?;
        tx.precondition(&before)?;
        diesel::delete(sessions::table.find(id))
            .execute(tx.conn)
            .await?;
        tx.deleted(&before);
        Ok(())
    })
    .await
}
