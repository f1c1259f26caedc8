//! The audit log: every write by an organiser (who, when, which resource, what changed),
//! inserted in the same transaction as the write.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
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

/// Records one write. `before`/`after` are the resource's API representations (`None` for a
/// creation's before and a deletion's after).
#[allow(clippy::too_many_arguments)]
pub async fn record<B: Serialize, A: Serialize>(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Option<Uuid>,
    action: Action,
    resource_type: &str,
    resource_id: Uuid,
    before: Option<&B>,
    after: Option<&A>,
) -> QueryResult<()> {
    let before = before.and_then(|b| serde_json::to_value(b).ok());
    let after = after.and_then(|a| serde_json::to_value(a).ok());
    let changes = match (action, &before, &after) {
        (Action::Update, Some(b), Some(a)) => serde_json::json!({ "changed": diff(b, a) }),
        (Action::Create, _, Some(a)) => serde_json::json!({ "created": a }),
        (Action::Delete, Some(b), _) => serde_json::json!({ "deleted": b }),
        _ => serde_json::json!({}),
    };
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::conference_id.eq(conference_id),
            audit_log::organiser_id.eq(caller.id),
            audit_log::action.eq(action.as_str()),
            audit_log::resource_type.eq(resource_type),
            audit_log::resource_id.eq(resource_id),
            audit_log::changes.eq(changes),
        ))
        .execute(conn)
        .await?;
    Ok(())
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
    /// `create`, `update` or `delete`.
    pub action: String,
    /// `conference`, `delegation`, `member`, `session`, `conference_organiser`.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: Uuid,
    /// `{"created": ...}`, `{"deleted": ...}` or `{"changed": {"field": {"from", "to"}}}`.
    pub changes: Value,
}

/// The log of a conference, newest first.
pub async fn of_conference(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<LogEntry>> {
    type Row = (
        Uuid,
        DateTime<Utc>,
        Option<Uuid>,
        Option<String>,
        String,
        String,
        Uuid,
        Value,
    );
    let mut query = audit_log::table
        .left_join(organisers::table.on(organisers::id.nullable().eq(audit_log::organiser_id)))
        .filter(audit_log::conference_id.eq(conference_id))
        .order(audit_log::id.desc())
        .limit(page.limit + 1)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::organiser_id,
            organisers::name.nullable(),
            audit_log::action,
            audit_log::resource_type,
            audit_log::resource_id,
            audit_log::changes,
        ))
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(audit_log::id.lt(after));
    }
    let rows: Vec<Row> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| r.0,
        |(id, at, organiser_id, organiser_name, action, resource_type, resource_id, changes)| {
            LogEntry {
                id,
                at,
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
