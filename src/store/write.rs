//! The one audited-write path. Every write an organiser makes goes through [`run`] (or its
//! shapes [`create`], [`update`] and [`delete`]): the caller gives the row lock and the write;
//! this module owns the rest, the same way every time:
//!
//! 1. a transaction, run again (up to 10 attempts, growing jittered pauses) when PostgreSQL
//!    reports a serialization failure (SQLSTATE 40001) or a deadlock (40P01);
//! 2. the access rule of [`crate::access`] for the scope's [`Need`], checked once, inside the
//!    transaction (so a grant revoked a moment ago refuses the write), by the store function
//!    that owns the rule: the route names no `Need`. What the check found ([`Access`]) is the
//!    body's ([`Tx::access`]), e.g. whether the caller writes as a focal point;
//! 3. `If-Match` (RFC 9110 §13.1.1) against the locked row's API representation (412);
//! 4. the audit entries ([`audit::Entry`]), inserted in the same transaction as the write;
//! 5. for a request that owns an `Idempotency-Key` (the current [`idempotency::Slot`]), the
//!    response the handler sends, rendered from the write's result and stored in the same
//!    transaction right before COMMIT: a retry after a crash between COMMIT and the answer
//!    replays it and creates nothing;
//! 6. the revision of every conference the write touched ([`revisions::push_bump`]), bumped
//!    and recorded in the same transaction, and after COMMIT made known to this instance at
//!    once ([`crate::freshness::committed`]), so its own cached public reads never lag its
//!    writes; with them goes the transaction's id, so that the instance's watcher knows the
//!    commit for its own while a lock holds up its question ([`crate::store::watcher`]);
//! 7. the messages the write causes ([`crate::store::outbox`]): the e-mails the body queued
//!    ([`Tx::notify`]) and, for each logged change that is a webhook event
//!    ([`outbox::Event::of_write`]), one delivery per matching webhook of its conference, ordered
//!    by the revision of step 6, so that a rolled-back write sends nothing.
//!
//! Steps 4 to 7 are one statement ([`Finish`]: data-modifying parts of one `WITH`),
//! kept prepared like every statement of the driver, and step 2 is sent with BEGIN in one
//! round trip ([`begin`]); unless it stores an idempotent response (checked before COMMIT),
//! COMMIT is sent with that statement too ([`finish_and_commit`]). A write costs its own
//! statements plus two round trips: BEGIN with the access check, and the last statement with
//! COMMIT. The outbox's sender is woken only when the statement queued a message.

use diesel::connection::TransactionDepthChange;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::{
    AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
};
use serde::Serialize;
use uuid::Uuid;

pub use super::audit::Audited;
use super::audit::{self, Action, Entry, ResourceKind, Subject};
use super::idempotency;
use super::outbox::{self, Email, Event};
use super::revisions;
use super::standing::{self, Access};
use super::{Caller, StoreError};
use crate::access::Need;
use crate::domain::input::FieldError;
use crate::domain::precondition::IfMatch;

/// The most attempts a write gets when it keeps failing with serialization failures.
const ATTEMPTS: u64 = 10;

/// Who writes, under which rule, and on which condition.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The organiser writing: the audit log's author. `None` for the importer and the command
    /// line, whose writes are not logged and bypass the access rules.
    pub actor: Option<Caller>,
    /// The conference the write belongs to: its log receives the entries, and `actor` must be
    /// allowed `need` on it (checked inside the transaction). `None` for resources outside a
    /// conference (organisations) and for a conference being created.
    pub conference: Option<(Uuid, Need)>,
    /// The request's `If-Match`, checked against the locked row.
    pub if_match: &'a IfMatch,
}

impl<'a> Scope<'a> {
    /// A write by `actor` on something under conference `id` that needs `need`.
    pub fn conference(actor: Caller, id: Uuid, need: Need, if_match: &'a IfMatch) -> Self {
        Scope {
            actor: Some(actor),
            conference: Some((id, need)),
            if_match,
        }
    }

    /// A write outside any conference (organisations), or an unlogged one (`actor: None`).
    pub fn outside(actor: Option<Caller>, if_match: &'a IfMatch) -> Self {
        Scope {
            actor,
            conference: None,
            if_match,
        }
    }

    fn conference_id(&self) -> Option<Uuid> {
        self.conference.map(|(id, _)| id)
    }
}

/// What a route has for a write whose rules the store checks: the names of the body's fields
/// and the body as parsed, or its field errors. The store looks at them only once the access
/// check (and the lock of what the write is under) passed, so a caller who may not write
/// learns nothing from the body's validation, as when routes checked access first.
#[derive(Debug, Clone)]
pub struct Input<T> {
    /// The body's field names (a focal point may send only some).
    pub fields: Vec<String>,
    /// The parsed body, or why it is invalid (422).
    pub parsed: Result<T, Vec<FieldError>>,
}

impl<T: Clone> Input<T> {
    /// Input that needs no check (the importer's, already valid).
    pub fn checked(value: T) -> Self {
        Input {
            fields: Vec::new(),
            parsed: Ok(value),
        }
    }

    /// The parsed body. Errors: [`StoreError::Invalid`].
    pub fn value(&self) -> Result<T, StoreError> {
        self.parsed.clone().map_err(StoreError::Invalid)
    }

    /// The same input with its parsed value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Input<U> {
        Input {
            fields: self.fields,
            parsed: self.parsed.map(f),
        }
    }

    /// The field names, for the rules of [`crate::access`].
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }
}

/// The `If-Match` of a write that has none (creations, the importer).
pub const UNCONDITIONAL: &IfMatch = &IfMatch::Absent;

/// An open audited transaction: the connection, and the entries to log when it commits.
pub struct Tx<'c> {
    /// The connection, inside the transaction.
    pub conn: &'c mut AsyncPgConnection,
    scope: Scope<'c>,
    access: Option<Access>,
    entries: Vec<Entry>,
    events: Vec<Event>,
    mail: Vec<Email>,
    /// Whether the scope's conference's revision is bumped even when nothing logged is under
    /// it ([`Tx::unseen_unless_logged`]).
    bump_scope: bool,
}

impl Tx<'_> {
    /// This write changes nothing a public read shows unless it logs a change under the
    /// conference (or calls [`Tx::seen`]): its conference's revision, which every cached public
    /// read of the conference depends on, is then not bumped, and the hot revision row is not
    /// locked (check-in scans at a door: most record a scan and change nothing public).
    pub fn unseen_unless_logged(&mut self) {
        self.bump_scope = false;
    }

    /// This write changes what a public read of its conference shows after all (a scan into a
    /// session: the session's presence): its revision is bumped.
    pub fn seen(&mut self) {
        self.bump_scope = true;
    }

    /// What the access check of the scope found inside this transaction: the conference and
    /// the caller's standing on it. `None` for a scope without a conference or an actor.
    pub fn access(&self) -> Option<&Access> {
        self.access.as_ref()
    }

    fn subject<R: Audited>(&self, row: &R) -> Subject {
        Subject {
            kind: R::KIND,
            id: row.id(),
            conference_id: self.scope.conference_id().or_else(|| row.conference_id()),
        }
    }

    /// Checks `If-Match` against `current`'s representation. Errors: [`StoreError::Stale`].
    pub fn precondition<R: Audited>(&self, current: &R) -> Result<(), StoreError> {
        if self.scope.if_match.matches(&current.repr()) {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }

    /// Logs the creation of `row`.
    pub fn created<R: Audited>(&mut self, row: &R) {
        let subject = self.subject(row);
        let repr = json(&row.repr());
        self.event(subject, row.delegation_id(), Action::Create, &repr);
        self.entries.push(Entry::created(subject, &repr));
    }

    /// Logs a change from `before` to `after`, unless their representations are equal.
    pub fn updated<R: Audited>(&mut self, before: &R, after: &R) {
        let (b, a) = (before.repr(), after.repr());
        if b != a {
            let subject = self.subject(after);
            let (b, a) = (json(&b), json(&a));
            let delegation = after.delegation_id();
            self.event(subject, delegation, Action::Update, &a);
            if subject.kind == ResourceKind::Member && Event::is_decision(&b, &a) {
                self.push_event(subject, delegation, "nomination.decided", &a);
            }
            self.entries.push(Entry::updated(subject, &b, &a));
        }
    }

    /// Logs the deletion of `row`.
    pub fn deleted<R: Audited>(&mut self, row: &R) {
        let subject = self.subject(row);
        let repr = json(&row.repr());
        self.event(subject, row.delegation_id(), Action::Delete, &repr);
        self.entries.push(Entry::deleted(subject, &repr));
    }

    /// Queues `email`, sent once the write commits (never if it rolls back).
    pub fn notify(&mut self, email: Email) {
        self.mail.push(email);
    }

    /// Queues webhook event `kind` (one of [`crate::domain::webhook::EVENT_TYPES`]) of the
    /// scope's conference carrying `data`, for a write that is not an audited resource (a
    /// scan at a door): delivered once the write commits, never if it rolls back.
    pub fn emit(
        &mut self,
        delegation_id: Option<Uuid>,
        kind: &'static str,
        data: serde_json::Value,
    ) {
        if let Some(conference_id) = self.scope.conference_id() {
            self.events.push(Event {
                conference_id,
                delegation_id,
                kind,
                data,
            });
        }
    }

    /// The webhook event of a logged write, if its kind has one and it is under a conference.
    fn event(
        &mut self,
        subject: Subject,
        delegation_id: Option<Uuid>,
        action: Action,
        repr: &serde_json::Value,
    ) {
        if let Some(kind) = Event::of_write(subject.kind, action, repr) {
            self.push_event(subject, delegation_id, kind, repr);
        }
    }

    fn push_event(
        &mut self,
        subject: Subject,
        delegation_id: Option<Uuid>,
        kind: &'static str,
        repr: &serde_json::Value,
    ) {
        if let Some(conference_id) = subject.conference_id {
            self.events.push(Event {
                conference_id,
                delegation_id,
                kind,
                data: repr.clone(),
            });
        }
    }
}

/// A representation as JSON (what the log and the webhooks carry).
fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Runs `body` as one audited write: transaction, retries, the scope's access rule, and the
/// entries `body` logged through [`Tx`], inserted before the commit. `body` runs again on each
/// attempt, so it must rebuild what it moves (clone its inputs). When the request owns an
/// `Idempotency-Key` and its handler expects a `T` ([`idempotency::Slot::expect`]), the
/// response rendered from the result is stored in the same transaction.
pub async fn run<T: 'static>(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
    mut body: impl AsyncFnMut(&mut Tx<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    retrying(async || attempt_once(conn, scope, &mut body).await).await
}

/// As what `caller` acted with `access` on a conference (`None` for a write outside any
/// conference: an organisation, an invitation accepted): check-in staff, then an organiser (a
/// grant that writes, an admin, or outside a conference an account that may organise), else a
/// focal point.
fn actor_kind(caller: Caller, access: Option<&Access>) -> audit::ActorKind {
    use crate::domain::vocab::OrganiserRole;
    use audit::ActorKind;
    match access {
        Some(a) if a.can_write => ActorKind::Organiser,
        Some(a) if a.role == Some(OrganiserRole::CheckIn) => ActorKind::CheckIn,
        Some(a) if !a.focal_point_of.is_empty() => ActorKind::FocalPoint,
        Some(_) => ActorKind::Organiser,
        None if caller.is_admin || caller.is_organiser => ActorKind::Organiser,
        None => ActorKind::FocalPoint,
    }
}

/// Runs `attempt` again (up to 10 attempts in all, pausing 4, 8, 16... up to 128 ms plus as
/// much random jitter) while it fails with a serialization failure or a deadlock
/// ([`StoreError::is_retryable`]); returns the first other result.
pub async fn retrying<T>(
    mut attempt: impl AsyncFnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut tries: u64 = 1;
    loop {
        match attempt().await {
            Err(e) if tries < ATTEMPTS && e.is_retryable() => {
                let base = 2u64 << tries.min(6);
                let jitter = rand::random::<u64>() % base;
                tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// One attempt of [`run`]: BEGIN, rule, body, log, idempotent response, COMMIT (ROLLBACK on
/// any error).
async fn attempt_once<T: 'static>(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
    body: &mut impl AsyncFnMut(&mut Tx<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let checked = begin(conn, scope).await?;
    let result = async {
        let access = checked?;
        let mut tx = Tx {
            conn: &mut *conn,
            scope,
            access,
            entries: Vec::new(),
            events: Vec::new(),
            mail: Vec::new(),
            bump_scope: true,
        };
        let value = body(&mut tx).await?;
        let touched = touched_conferences(&mut tx).await?;
        let reply = idempotency::current()
            .and_then(|slot| slot.render(&value).map(|response| (slot, response)));
        let finish = Finish {
            bump: revisions::to_bump(&touched),
            log: audit::Rows::of(
                scope.actor,
                scope
                    .actor
                    .map(|c| actor_kind(c, tx.access()))
                    .unwrap_or(audit::ActorKind::System),
                &tx.entries,
            ),
            outgoing: outbox::Outgoing::of(&tx.events, &tx.mail),
            storing: reply.is_some(),
            store: reply
                .as_ref()
                .map(|(slot, response)| slot.storing(response))
                .unwrap_or_default(),
        };
        let finished = finish_and_commit(tx.conn, finish).await?;
        Ok((value, reply, finished))
    }
    .await;
    match result {
        Ok((value, reply, finished)) => {
            crate::freshness::committed(&finished.bumped, finished.xid);
            if finished.queued {
                // The write queued e-mails or webhook deliveries: the sender looks now.
                outbox::queued().notify_waiters();
            }
            if let Some((slot, response)) = reply {
                slot.committed(response);
            }
            Ok(value)
        }
        // The transaction already ended (its COMMIT was sent).
        Err(e) if !in_transaction(conn) => Err(e),
        Err(e) => match AnsiTransactionManager::rollback_transaction(conn).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Whether `conn` is inside a transaction its manager knows of (a broken manager counts as
/// inside: the rollback path reports it).
fn in_transaction(conn: &mut AsyncPgConnection) -> bool {
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_or(true, |d| d.is_some())
}

/// The last statement ([`Finish`]) and COMMIT in one round trip: both are sent before either
/// answer is read, as BEGIN is with the access check ([`begin`]). A write that stores an
/// idempotent response (whose count is checked before COMMIT), or one inside a savepoint,
/// runs them one after the other. Pipelined, the transaction is over when this returns: when
/// the statement fails, PostgreSQL ends the failed transaction at the COMMIT that follows it
/// (a rollback); when COMMIT fails, it rolled back. The transaction manager is told so, and
/// no ROLLBACK is sent after.
async fn finish_and_commit(
    conn: &mut AsyncPgConnection,
    finish: Finish,
) -> Result<Finished, StoreError> {
    let status =
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_state()?;
    let outermost = status.transaction_depth().map(|d| d.get()) == Some(1);
    if finish.storing || !outermost {
        let mut finished = finish.run(conn).await?;
        AnsiTransactionManager::commit_transaction(conn).await?;
        // A savepoint's release commits nothing yet: the transaction is not this write's.
        finished.xid = finished.xid.filter(|_| outermost);
        return Ok(finished);
    }
    let shared: &AsyncPgConnection = conn;
    let finished = async {
        let mut c = shared;
        finish.run_on(&mut c).await
    };
    let committed = async {
        let mut c = shared;
        c.batch_execute("COMMIT").await
    };
    let (finished, committed) = futures_util::future::join(finished, committed).await;
    let status = AnsiTransactionManager::transaction_manager_status_mut(conn);
    match &committed {
        // PostgreSQL answered COMMIT (a failed transaction's COMMIT is its rollback; a COMMIT
        // refused with an SQLSTATE ends the transaction too).
        Ok(()) | Err(diesel::result::Error::DatabaseError(..)) => {
            status
                .transaction_state()?
                .change_transaction_depth(TransactionDepthChange::DecreaseDepth)?;
        }
        // COMMIT could not be sent or answered: the connection's state is unknown, and the
        // pool drops a connection in error.
        Err(_) => status.set_in_error(),
    }
    let finished = finished?;
    committed?;
    Ok(finished)
}

/// BEGIN and the scope's access check ([`standing::conference`]) in one round trip: both are
/// sent before either answer is read (pipelined on the one connection; PostgreSQL runs them
/// in the order sent, so the check runs inside the transaction). The outer `Result` is BEGIN's
/// (no transaction is open when it fails), the inner one the check's (the transaction is open
/// and must be rolled back).
///
/// The transaction manager is told of the transaction before BEGIN is sent: a request
/// cancelled in between leaves a connection that the pool sees in a transaction and drops
/// (never one reused inside a transaction it does not know of). Inside a transaction already
/// (a savepoint) the plain path runs.
async fn begin(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
) -> Result<Result<Option<Access>, StoreError>, StoreError> {
    let check = match (scope.actor, scope.conference) {
        (Some(actor), Some((id, need))) => Some((actor, id, need)),
        _ => None,
    };
    let status =
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_state()?;
    let (Some((actor, id, need)), None) = (check, status.transaction_depth()) else {
        AnsiTransactionManager::begin_transaction(conn).await?;
        return Ok(match check {
            Some((actor, id, need)) => standing::conference(conn, Some(actor), id, need)
                .await
                .map(Some),
            None => Ok(None),
        });
    };
    status.change_transaction_depth(TransactionDepthChange::IncreaseDepth)?;
    let shared: &AsyncPgConnection = conn;
    let begun = async {
        let mut c = shared;
        c.batch_execute("BEGIN").await
    };
    let checked = standing::conference(shared, Some(actor), id, need);
    let (begun, checked) = futures_util::future::join(begun, checked).await;
    if let Err(e) = begun {
        // No transaction was opened (the connection is likely gone: the pool drops it).
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
        return Err(e.into());
    }
    Ok(checked.map(Some))
}

/// The last statement of a write before COMMIT: the revision bump ([`revisions::push_bump`]),
/// the audit rows ([`audit::Rows::push_insert`]), the response stored under the request's
/// `Idempotency-Key` ([`idempotency::Storing::push_update`]) and the messages the write queues
/// (webhook deliveries and e-mails, [`outbox::Outgoing::push_inserts`]), as parts of one `WITH`
/// (they touch different tables, so their order within the statement does not matter). Fixed
/// SQL: prepared once per connection.
struct Finish {
    bump: Vec<Uuid>,
    log: audit::Rows,
    /// The e-mails and webhook events the write queues ([`outbox::Outgoing::push_inserts`]).
    outgoing: outbox::Outgoing,
    store: idempotency::Storing,
    /// Whether `store` stores a response (else it matches no key).
    storing: bool,
}

impl Finish {
    /// Runs the statement (none when there is nothing to bump, log or store) and answers the
    /// bumped `(conference, revision)` pairs. Errors: [`idempotency::answered_first`] when a
    /// response was to be stored and was not.
    async fn run(self, conn: &mut AsyncPgConnection) -> Result<Finished, StoreError> {
        let shared: &AsyncPgConnection = conn;
        let mut c = shared;
        self.run_on(&mut c).await
    }

    /// [`Finish::run`] on a shared connection (pipelined with COMMIT: [`finish_and_commit`]).
    async fn run_on(self, conn: &mut &AsyncPgConnection) -> Result<Finished, StoreError> {
        if self.bump.is_empty() && self.log.is_empty() && !self.storing && self.outgoing.is_empty()
        {
            return Ok(Finished::default());
        }
        let storing = self.storing;
        let rows: Vec<FinishRow> = self.load(conn).await?;
        if storing && <[_]>::first(&rows).is_none_or(|r| r.0 != 1) {
            return Err(idempotency::answered_first());
        }
        Ok(Finished {
            queued: <[_]>::first(&rows).is_some_and(|r| r.1 > 0),
            xid: <[_]>::first(&rows).map(|r| r.2),
            bumped: rows
                .into_iter()
                .filter_map(|(_, _, _, id, revision)| Some((id?, revision?)))
                .collect(),
        })
    }
}

/// A row of [`Finish`]: responses stored, messages queued, the transaction's id, and a bumped
/// conference with its new revision (none when nothing was bumped).
type FinishRow = (i64, i64, i64, Option<Uuid>, Option<i64>);

/// What a write's last statement ([`Finish`]) did.
#[derive(Debug, Default)]
struct Finished {
    /// The bumped `(conference, revision)` pairs.
    bumped: Vec<(Uuid, i64)>,
    /// Whether it queued a message (a webhook delivery or an e-mail): only then is the
    /// outbox's sender woken ([`outbox::queued`]), not after every write.
    queued: bool,
    /// The transaction's id (`pg_current_xact_id()`), told to the instance's revision watcher
    /// with the bumped revisions ([`crate::freshness::committed`]) once it committed; `None`
    /// when no statement ran, or inside a savepoint.
    xid: Option<i64>,
}

impl QueryFragment<Pg> for Finish {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH bumped AS (");
        revisions::push_bump(out.reborrow(), &self.bump)?;
        out.push_sql("), logged AS (");
        self.log.push_insert(out.reborrow())?;
        out.push_sql("), stored AS (");
        self.store.push_update(out.reborrow())?;
        out.push_sql("), ");
        self.outgoing.push_inserts(out.reborrow())?;
        out.push_sql(
            " SELECT (SELECT count(*) FROM stored), \
             (SELECT count(*) FROM hooked) + (SELECT count(*) FROM mailed), \
             pg_current_xact_id()::text::bigint, b.conference_id, b.revision \
             FROM (SELECT 1) AS one LEFT JOIN bumped AS b ON true",
        );
        Ok(())
    }
}

impl QueryId for Finish {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Finish {
    type SqlType = (BigInt, BigInt, BigInt, Nullable<SqlUuid>, Nullable<BigInt>);
}

/// The conferences whose public reads the transaction's write changes: the scope's, each
/// logged row's, and for an organisation those it has delegations in (its name shows in their
/// attendance). Their revisions are bumped before COMMIT ([`Finish`]).
async fn touched_conferences(tx: &mut Tx<'_>) -> Result<Vec<Uuid>, StoreError> {
    let mut ids: Vec<Uuid> = tx
        .scope
        .conference_id()
        .filter(|_| tx.bump_scope)
        .into_iter()
        .collect();
    for entry in &tx.entries {
        ids.extend(entry.subject.conference_id);
        if entry.subject.kind == ResourceKind::Organisation {
            ids.extend(revisions::conferences_of_organisation(tx.conn, entry.subject.id).await?);
        }
    }
    Ok(ids)
}

/// Creates one resource: `insert` returns the stored row, which is logged as created.
pub async fn create<R: Audited + 'static>(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
    mut insert: impl AsyncFnMut(&mut AsyncPgConnection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    run(conn, scope, async |tx| {
        let saved = insert(tx.conn).await?;
        tx.created(&saved);
        Ok(saved)
    })
    .await
}

/// Changes one resource: `lock` reads it `FOR UPDATE` (or locks what guards it), `If-Match` is
/// checked against it, `change` writes and returns the new state, and the difference is
/// logged (nothing when the representation did not change).
pub async fn update<R: Audited + 'static>(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
    mut lock: impl AsyncFnMut(&mut AsyncPgConnection) -> Result<R, StoreError>,
    mut change: impl AsyncFnMut(&mut AsyncPgConnection, &R) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    run(conn, scope, async |tx| {
        let before = lock(tx.conn).await?;
        tx.precondition(&before)?;
        let after = change(tx.conn, &before).await?;
        tx.updated(&before, &after);
        Ok(after)
    })
    .await
}

/// Deletes one resource: `lock` reads it `FOR UPDATE`, `If-Match` is checked against it,
/// `remove` deletes it, and its last representation is logged.
pub async fn delete<R: Audited + 'static>(
    conn: &mut AsyncPgConnection,
    scope: Scope<'_>,
    mut lock: impl AsyncFnMut(&mut AsyncPgConnection) -> Result<R, StoreError>,
    mut remove: impl AsyncFnMut(&mut AsyncPgConnection, &R) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    run(conn, scope, async |tx| {
        let before = lock(tx.conn).await?;
        tx.precondition(&before)?;
        remove(tx.conn, &before).await?;
        tx.deleted(&before);
        Ok(())
    })
    .await
}
