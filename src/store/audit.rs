//! The audit log: every write by an organiser (who, when, which resource, what changed),
//! inserted in the same transaction as the write.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{new_id, paginate, Caller, Page, PageRequest};
use crate::db::schema::{audit_log, organisers};

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A resource was created.
    Create,
    /// A resource was changed.
    Update,
    /// A resource was deleted.
    Delete,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// Fields never worth logging as changes.
const IGNORED: &[&str] = &["updated_at", "created_at"];

/// What changed between two JSON representations: `{"field": {"from": old, "to": new}}`.
pub fn diff(before: &Value, after: &Value) -> Value {
    let mut out = Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, new) in a {
            if IGNORED.contains(&k.as_str()) {
                continue;
            }
            let old = b.get(k).unwrap_or(&Value::Null);
            if old != new {
                out.insert(k.clone(), serde_json::json!({"from": old, "to": new}));
            }
        }
    }
    Value::Object(out)
}

/// A row (or state) that audited writes lock, compare and log.
pub trait Audited {
    /// What the row is in the audit log.
    const KIND: ResourceKind;
    /// The API representation: what `If-Match` and the log compare.
    type Repr: Serialize + PartialEq;
    /// The resource's id in the log.
    fn id(&self) -> Uuid;
    /// The representation a client sees.
    fn repr(&self) -> Self::Repr;
    /// The conference whose log the row's entries join when the scope names none (a
    /// conference is its own; a delegation or session its conference's).
    fn conference_id(&self) -> Option<Uuid> {
        None
    }
    /// The delegation the row belongs to (a delegation is its own), which its webhook
    /// deliveries name beside the conference (`delegation_id`); `None` for rows of no one
    /// delegation.
    fn delegation_id(&self) -> Option<Uuid> {
        None
    }
}

/// What kind of resource an audit entry is about; stored as `resource_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A conference (`conference`).
    Conference,
    /// An organiser's grant on a conference (`conference_organiser`).
    ConferenceOrganiser,
    /// An organisation (`organisation`; logged outside any conference).
    Organisation,
    /// A delegation (`delegation`).
    Delegation,
    /// A member of a delegation (`member`).
    Member,
    /// A session (`session`).
    Session,
    /// The delegations present at a session (`session_attendance`; id the session's).
    SessionAttendance,
    /// A conference's explicit protocol order (`protocol_order`; id the conference's).
    ProtocolOrder,
    /// A focal point of a delegation: its invitation, acceptance and revocation
    /// (`focal_point`).
    FocalPoint,
    /// A delegation's letter of credentials: uploads and reviews (`credentials`; id the
    /// delegation's).
    Credentials,
    /// An edition of the list of participants (`participants_edition`); the entry holds its
    /// number, kind, `as_of` and statistics, not the snapshot.
    Edition,
    /// A webhook of a conference (`webhook`); the entry holds its URL and events, never its
    /// secret.
    Webhook,
    /// A member's badge (`badge`; id the member's): an organiser's category and reissues,
    /// never the token.
    Badge,
    /// An e-mail of the conference (`message`): an organiser's resend, never its body.
    Message,
}

impl ResourceKind {
    /// The `resource_type` of the log (API.md, "Audit log").
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Conference => "conference",
            ResourceKind::ConferenceOrganiser => "conference_organiser",
            ResourceKind::Organisation => "organisation",
            ResourceKind::Delegation => "delegation",
            ResourceKind::Member => "member",
            ResourceKind::Session => "session",
            ResourceKind::SessionAttendance => "session_attendance",
            ResourceKind::ProtocolOrder => "protocol_order",
            ResourceKind::FocalPoint => "focal_point",
            ResourceKind::Credentials => "credentials",
            ResourceKind::Edition => "participants_edition",
            ResourceKind::Webhook => "webhook",
            ResourceKind::Badge => "badge",
            ResourceKind::Message => "message",
        }
    }
}

/// What an entry is about: the resource, and the conference whose log holds it (`None` for
/// organisations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// The kind of resource.
    pub kind: ResourceKind,
    /// Its id.
    pub id: Uuid,
    /// The conference whose log the entry joins.
    pub conference_id: Option<Uuid>,
}

/// One write to log: who is added when it is inserted ([`Rows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What was written.
    pub subject: Subject,
    /// Create, update or delete.
    pub action: Action,
    /// `{"created": repr}`, `{"deleted": repr}` or `{"changed": {"field": {"from", "to"}}}`.
    pub changes: Value,
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Entry {
    /// The creation of `subject`, whose representation is now `after`.
    pub fn created<T: Serialize>(subject: Subject, after: &T) -> Self {
        Entry {
            subject,
            action: Action::Create,
            changes: serde_json::json!({ "created": json(after) }),
        }
    }

    /// A change of `subject` from `before` to `after` (fields that differ, [`diff`]).
    pub fn updated<T: Serialize>(subject: Subject, before: &T, after: &T) -> Self {
        Entry {
            subject,
            action: Action::Update,
            changes: serde_json::json!({ "changed": diff(&json(before), &json(after)) }),
        }
    }

    /// The deletion of `subject`, whose last representation was `before`.
    pub fn deleted<T: Serialize>(subject: Subject, before: &T) -> Self {
        Entry {
            subject,
            action: Action::Delete,
            changes: serde_json::json!({ "deleted": json(before) }),
        }
    }
}

/// As what the author of a write acted (the log's `actor.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// An organiser of the conference (a grant that writes), or an admin.
    Organiser,
    /// A focal point of one of the conference's delegations.
    FocalPoint,
    /// Check-in staff (the grant `check_in`): scans at the doors.
    CheckIn,
    /// Plenary itself, for no caller.
    System,
}

impl ActorKind {
    /// The name in the log: `organiser`, `focal_point`, `check_in`, `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Organiser => "organiser",
            ActorKind::FocalPoint => "focal_point",
            ActorKind::CheckIn => "check_in",
            ActorKind::System => "system",
        }
    }
}

/// The audit rows of a write, as columns: what [`Rows::push_insert`] inserts.
#[derive(Debug, Default)]
pub struct Rows {
    organiser: Option<Uuid>,
    actor_kind: &'static str,
    ids: Vec<Uuid>,
    conference_ids: Vec<Option<Uuid>>,
    actions: Vec<&'static str>,
    kinds: Vec<&'static str>,
    resource_ids: Vec<Uuid>,
    changes: Vec<Value>,
}

impl Rows {
    /// The rows of `entries` as written by `actor`, acting as `kind`; none without an actor
    /// (the importer and the command line are not logged).
    pub fn of(actor: Option<Caller>, kind: ActorKind, entries: &[Entry]) -> Self {
        let Some(actor) = actor else {
            return Rows::default();
        };
        let mut rows = Rows {
            organiser: Some(actor.id),
            actor_kind: kind.as_str(),
            ..Rows::default()
        };
        for e in entries {
            rows.ids.push(new_id());
            rows.conference_ids.push(e.subject.conference_id);
            rows.actions.push(e.action.as_str());
            rows.kinds.push(e.subject.kind.as_str());
            rows.resource_ids.push(e.subject.id);
            rows.changes.push(e.changes.clone());
        }
        rows
    }

    /// True when there is nothing to log.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Writes the insert of these rows as one part of the write driver's last statement
    /// before COMMIT ([`super::write`]): in the write's transaction, one statement whatever
    /// their number.
    pub fn push_insert<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO audit_log \
             (id, conference_id, organiser_id, actor_kind, action, resource_type, resource_id, \
             changes) SELECT e.id, e.conference_id, ",
        );
        out.push_bind_param::<Nullable<SqlUuid>, _>(&self.organiser)?;
        out.push_sql("::uuid, ");
        out.push_bind_param::<Text, _>(&self.actor_kind)?;
        out.push_sql("::text, e.action, e.resource_type, e.resource_id, e.changes FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.conference_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Text>, _>(&self.actions)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.kinds)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.resource_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Jsonb>, _>(&self.changes)?;
        out.push_sql(
            "::jsonb[]) AS e(id, conference_id, action, resource_type, resource_id, changes)",
        );
        Ok(())
    }
}

/// One entry of `GET /conferences/{id}/log`.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// UUID v7 of the entry.
    pub id: Uuid,
    /// When the write happened (RFC 3339).
    pub at: DateTime<Utc>,
    /// Who wrote (null if the organiser was deleted since).
    pub organiser_id: Option<Uuid>,
    /// Their name, if they still exist.
    pub organiser_name: Option<String>,
    /// Who acted and as what: `{"id", "name", "kind"}` (`id` and `name` as `organiser_id`
    /// and `organiser_name`).
    pub actor: Actor,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// One of [`ResourceKind`]'s names: `conference`, `conference_organiser`, `organisation`,
    /// `delegation`, `member`, `session`, `session_attendance`, `protocol_order`,
    /// `focal_point`, `credentials`, `participants_edition`, `webhook`, `badge`, `message`.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: Uuid,
    /// `{"created": ...}`, `{"deleted": ...}` or `{"changed": {"field": {"from", "to"}}}`.
    pub changes: Value,
}

/// The author of an entry (API.md, "Details that clients rely on").
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Actor {
    /// The account (null if it was deleted since).
    pub id: Option<Uuid>,
    /// Its name, if it still exists.
    pub name: Option<String>,
    /// `organiser`, `focal_point`, `check_in` or `system` ([`ActorKind`]), as it acted when
    /// it wrote.
    pub kind: String,
}

/// Whose log to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOf {
    /// A conference and what hangs under it (entries whose `conference_id` is its).
    Conference(Uuid),
    /// One organisation (entries of resource type `organisation` with its id; organisations
    /// belong to no conference).
    Organisation(Uuid),
}

/// The log of a conference, newest first ([`entries`] of [`LogOf::Conference`]).
pub async fn of_conference(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<LogEntry>> {
    entries(conn, LogOf::Conference(conference_id), page).await
}

/// True when the log holds at least one entry about organisation `id` (it may have been
/// deleted since).
pub async fn has_organisation(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        audit_log::table
            .filter(audit_log::resource_type.eq(ResourceKind::Organisation.as_str()))
            .filter(audit_log::resource_id.eq(id)),
    ))
    .get_result(conn)
    .await
}

/// A log, newest first (UUID v7 ids sort by time), keyset-paginated on the entry id: the
/// one query behind `GET /conferences/{id}/log` and `GET /organisations/{id}/log`.
pub async fn entries(
    conn: &mut AsyncPgConnection,
    of: LogOf,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<LogEntry>> {
    type Row = (
        Uuid,
        DateTime<Utc>,
        Option<Uuid>,
        Option<String>,
        String,
        String,
        String,
        Uuid,
        Value,
    );
    let mut query = audit_log::table
        .left_join(organisers::table.on(organisers::id.nullable().eq(audit_log::organiser_id)))
        .order(audit_log::id.desc())
        .limit(page.limit + 1)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::organiser_id,
            organisers::name.nullable(),
            audit_log::actor_kind,
            audit_log::action,
            audit_log::resource_type,
            audit_log::resource_id,
            audit_log::changes,
        ))
        .into_boxed();
    query = match of {
        LogOf::Conference(id) => query.filter(audit_log::conference_id.eq(id)),
        LogOf::Organisation(id) => query
            .filter(audit_log::resource_type.eq(ResourceKind::Organisation.as_str()))
            .filter(audit_log::resource_id.eq(id)),
    };
    if let Some(after) = page.after {
        query = query.filter(audit_log::id.lt(after));
    }
    let rows: Vec<Row> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| r.0,
        |(
            id,
            at,
            organiser_id,
            organiser_name,
            kind,
            action,
            resource_type,
            resource_id,
            changes,
        )| {
            LogEntry {
                id,
                at,
                actor: Actor {
                    id: organiser_id,
                    name: organiser_name.clone(),
                    kind,
                },
                organiser_id,
                organiser_name,
                action,
                resource_type,
                resource_id,
                changes,
            }
        },
    ))
}
