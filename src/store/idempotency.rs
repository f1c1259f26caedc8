//! `Idempotency-Key` records: one per (organiser, key), kept 24 hours; and the [`Slot`] through
//! which the audited-write driver ([`super::write::run`]) stores a request's response in the
//! write's own transaction, so that a retry after a crash between COMMIT and the answer
//! replays it instead of running again.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bytea, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::StoreError;
use crate::access::Need;
use crate::db::schema::idempotency_keys as k;

/// How long a key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;
/// After this many seconds without a stored response, a first request is presumed dead (its
/// process crashed) and a retry may take the key over.
pub const ABANDONED_AFTER_SECONDS: i64 = 15;

/// A stored key.
#[derive(Debug, Clone, Queryable)]
pub struct KeyRecord {
    /// SHA-256 of method, path, content type and body of the first request.
    pub request_hash: String,
    /// The first response's status, `None` while it is still running.
    pub response_status: Option<i32>,
    /// Replayed headers (`{"name": "value"}`).
    pub response_headers: Option<Value>,
    /// The first response's body.
    pub response_body: Option<Vec<u8>>,
    /// When the key was first used.
    pub created_at: DateTime<Utc>,
    /// The [`ReplayCheck`]s the first request passed (a JSON array), which a replay passes
    /// again; `None` for a key stored before they were kept.
    pub replay_checks: Option<Value>,
}

/// An access check a keyed request passed before its response was stored. A replay makes it
/// again with the caller's current grants and answers its refusal instead of the stored
/// response: a focal point whose grant was revoked, an organiser removed from the conference
/// or stripped of the organiser grant no longer gets what its earlier write answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "check")]
pub enum ReplayCheck {
    /// [`super::standing::conference`]: the caller may `need` on `conference`.
    Conference {
        /// The conference's id.
        conference: Uuid,
        /// What the request needed.
        need: Need,
    },
    /// [`super::standing::organiser`]: the caller holds the organiser grant.
    Organiser,
}

/// Records that the current request (if it owns a key) passed `check`; the access checks of
/// the store call it ([`super::standing`]).
pub fn passed(check: ReplayCheck) {
    if let Some(slot) = current() {
        let mut checks = cell(&slot.checks);
        if !checks.contains(&check) {
            checks.push(check);
        }
    }
}

/// The checks a stored record holds. Errors: a value that is not a list of [`ReplayCheck`].
pub fn replay_checks(record: &KeyRecord) -> Result<Vec<ReplayCheck>, serde_json::Error> {
    match &record.replay_checks {
        None => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone()),
    }
}

/// Claims a key for a new request. `true` when this request owns it now: the key was unused,
/// expired, or abandoned by a crashed first request with the same hash. One statement: this
/// organiser's other expired keys are forgotten, and an expired or abandoned record of this
/// key is taken over in place (`ON CONFLICT ... DO UPDATE ... WHERE`), as if deleted and
/// inserted anew. Errors: a foreign-key violation when the organiser no longer exists.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    organiser: Uuid,
    key: &str,
    request_hash: &str,
) -> QueryResult<bool> {
    let claim = Claim {
        organiser,
        key,
        request_hash,
        expired: Utc::now() - chrono::Duration::hours(KEY_TTL_HOURS),
        abandoned: Utc::now() - chrono::Duration::seconds(ABANDONED_AFTER_SECONDS),
    };
    Ok(claim.execute(conn).await? == 1)
}

/// The statement of [`claim`] (fixed SQL, kept prepared by the connection's statement cache).
#[derive(Debug, Clone, Copy)]
struct Claim<'a> {
    organiser: Uuid,
    key: &'a str,
    request_hash: &'a str,
    expired: DateTime<Utc>,
    abandoned: DateTime<Utc>,
}

impl QueryFragment<Pg> for Claim<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH forgotten AS (DELETE FROM idempotency_keys \
             WHERE organiser_id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.organiser)?;
        out.push_sql(" AND created_at < ");
        out.push_bind_param::<Timestamptz, _>(&self.expired)?;
        out.push_sql(" AND key <> ");
        out.push_bind_param::<Text, _>(self.key)?;
        out.push_sql(
            ") INSERT INTO idempotency_keys AS k (organiser_id, key, request_hash) VALUES (",
        );
        out.push_bind_param::<SqlUuid, _>(&self.organiser)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.key)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.request_hash)?;
        out.push_sql(
            ") ON CONFLICT (organiser_id, key) DO UPDATE SET \
             request_hash = EXCLUDED.request_hash, created_at = now(), response_status = NULL, \
             response_headers = NULL, response_body = NULL \
             WHERE k.created_at < ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.expired)?;
        out.push_sql(
            " OR (k.request_hash = EXCLUDED.request_hash AND k.response_status IS NULL \
             AND k.created_at < ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.abandoned)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryId for Claim<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// The stored record of a key.
pub async fn find(
    conn: &mut AsyncPgConnection,
    organiser: Uuid,
    key: &str,
) -> QueryResult<Option<KeyRecord>> {
    k::table
        .filter(k::organiser_id.eq(organiser))
        .filter(k::key.eq(key))
        .select((
            k::request_hash,
            k::response_status,
            k::response_headers,
            k::response_body,
            k::created_at,
            k::replay_checks,
        ))
        .first(conn)
        .await
        .optional()
}

/// A response kept under a key, as plain data (the store knows no HTTP types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Replayed headers (`{"name": "value"}`, lower-case names).
    pub headers: Value,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// Stores the first response of a key with the access checks its request passed, unless one
/// is stored already (a response is never overwritten: the first one stored is the one every
/// retry replays). Answers whether it stored.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    organiser: Uuid,
    key: &str,
    response: &StoredResponse,
    checks: &[ReplayCheck],
) -> QueryResult<bool> {
    let updated = diesel::update(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::key.eq(key))
            .filter(k::response_status.is_null()),
    )
    .set((
        k::response_status.eq(i32::from(response.status)),
        k::response_headers.eq(&response.headers),
        k::response_body.eq(&response.body),
        k::replay_checks.eq(checks_json(checks)),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

fn checks_json(checks: &[ReplayCheck]) -> Value {
    serde_json::to_value(checks).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// Forgets a key whose first request failed with a server error (so that a retry runs
/// again); a key with a stored response is kept.
pub async fn release(conn: &mut AsyncPgConnection, organiser: Uuid, key: &str) -> QueryResult<()> {
    diesel::delete(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::key.eq(key))
            .filter(k::response_status.is_null()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What a test build does right after committing a write whose response it stored: the
/// crash between COMMIT and the answer that `scripts/fault.py` and the tests provoke. Only
/// debug builds read it (the `Plenary-Failpoint` request header, see `crate::idempotency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failpoint {
    /// Panic: the request's task dies and its connection drops unanswered; the process
    /// lives (in-process tests).
    Panic,
    /// Abort the whole process (`scripts/fault.py`).
    Abort,
}

/// Renders a write's result (the `T` of [`super::write::run`], type-erased) into the
/// response to store; `None` when the result is not of the type the handler expects.
type Render = Box<dyn Fn(&dyn Any) -> Option<StoredResponse> + Send + Sync>;

/// The key a request owns, while its handler runs: set by the `Idempotency-Key` middleware
/// around the handler ([`with_slot`]), given a renderer by the handler ([`Slot::expect`]),
/// and used by the audited-write driver, which stores the rendered response in the write's
/// transaction right before COMMIT ([`Slot::stored`] then holds it).
pub struct Slot {
    organiser: Uuid,
    key: String,
    request_hash: String,
    failpoint: Option<Failpoint>,
    render: Mutex<Option<Render>>,
    stored: Mutex<Option<StoredResponse>>,
    checks: Mutex<Vec<ReplayCheck>>,
}

tokio::task_local! {
    static SLOT: Arc<Slot>;
}

/// Locks a slot's cell; a poisoned lock (a panic while held) is still usable.
fn cell<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Slot {
    /// The slot of a request that owns (`organiser`, `key`) with request hash `request_hash`.
    pub fn new(
        organiser: Uuid,
        key: &str,
        request_hash: &str,
        failpoint: Option<Failpoint>,
    ) -> Arc<Self> {
        Arc::new(Slot {
            organiser,
            key: key.to_string(),
            request_hash: request_hash.to_string(),
            failpoint,
            render: Mutex::new(None),
            stored: Mutex::new(None),
            checks: Mutex::new(Vec::new()),
        })
    }

    /// Tells the driver how the handler answers a write returning `T`: the first audited
    /// write of the request whose result is a `T` stores `render(result)` in its transaction.
    pub fn expect<T: 'static>(
        &self,
        render: impl Fn(&T) -> Option<StoredResponse> + Send + Sync + 'static,
    ) {
        let erased: Render = Box::new(move |v| v.downcast_ref::<T>().and_then(&render));
        *cell(&self.render) = Some(erased);
    }

    /// The response to store for a write that returned `value`, if the handler expects one
    /// and none is stored yet.
    pub(crate) fn render(&self, value: &dyn Any) -> Option<StoredResponse> {
        if cell(&self.stored).is_some() {
            return None;
        }
        cell(&self.render).as_ref().and_then(|r| r(value))
    }

    /// What stores `response` under the slot's key, as one part of the write driver's last
    /// statement before COMMIT ([`super::write`]).
    pub(crate) fn storing(&self, response: &StoredResponse) -> Storing {
        Storing {
            organiser: Some(self.organiser),
            key: Some(self.key.clone()),
            request_hash: Some(self.request_hash.clone()),
            status: Some(i32::from(response.status)),
            headers: Some(response.headers.clone()),
            body: Some(response.body.clone()),
            checks: Some(checks_json(&self.checks())),
        }
    }

    /// The access checks the request passed so far ([`passed`]).
    pub fn checks(&self) -> Vec<ReplayCheck> {
        cell(&self.checks).clone()
    }

    /// Records that `response` was committed with the write (then fires the failpoint of a
    /// test build).
    pub(crate) fn committed(&self, response: StoredResponse) {
        *cell(&self.stored) = Some(response);
        #[cfg(debug_assertions)]
        match self.failpoint {
            Some(Failpoint::Panic) => panic!("failpoint after-commit"),
            Some(Failpoint::Abort) => std::process::abort(),
            None => {}
        }
        #[cfg(not(debug_assertions))]
        let _ = self.failpoint;
    }

    /// The response committed with the request's write, if one was.
    pub fn stored(&self) -> Option<StoredResponse> {
        cell(&self.stored).clone()
    }
}

/// The response a write stores under its request's key ([`Slot::storing`]), or nothing
/// ([`Storing::default`]: the same statement, matching no key).
#[derive(Debug, Default)]
pub struct Storing {
    organiser: Option<Uuid>,
    key: Option<String>,
    request_hash: Option<String>,
    status: Option<i32>,
    headers: Option<Value>,
    body: Option<Vec<u8>>,
    checks: Option<Value>,
}

impl Storing {
    /// Writes the update that stores the response as one part of the write driver's last
    /// statement: it returns one row when it stored, none when the key holds a response
    /// already or is no longer this request's (taken over as abandoned by a retry), which
    /// the driver refuses ([`answered_first`]): the write must not commit twice.
    pub fn push_update<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE idempotency_keys SET response_status = ");
        out.push_bind_param::<Nullable<Int4>, _>(&self.status)?;
        out.push_sql(", response_headers = ");
        out.push_bind_param::<Nullable<Jsonb>, _>(&self.headers)?;
        out.push_sql(", response_body = ");
        out.push_bind_param::<Nullable<Bytea>, _>(&self.body)?;
        out.push_sql(", replay_checks = ");
        out.push_bind_param::<Nullable<Jsonb>, _>(&self.checks)?;
        out.push_sql(" WHERE organiser_id = ");
        out.push_bind_param::<Nullable<SqlUuid>, _>(&self.organiser)?;
        out.push_sql(" AND key = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.key)?;
        out.push_sql(" AND request_hash = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.request_hash)?;
        out.push_sql(" AND response_status IS NULL RETURNING 1");
        Ok(())
    }
}

/// The refusal of a write whose response could not be stored under its key ([`Storing`]).
pub fn answered_first() -> StoreError {
    StoreError::Conflict(
        "another request with this Idempotency-Key answered first; retry to get its response"
            .into(),
    )
}

/// Runs `f` (the handler) with `slot` as the current request's [`Slot`].
pub async fn with_slot<F: Future>(slot: Arc<Slot>, f: F) -> F::Output {
    SLOT.scope(slot, f).await
}

/// The current request's [`Slot`]: `None` outside [`with_slot`] (requests without a key,
/// the importer, the command line).
pub fn current() -> Option<Arc<Slot>> {
    SLOT.try_with(Arc::clone).ok()
}
