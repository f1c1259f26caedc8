//! The delivery state of a conference's e-mails, for its organisers (API.md,
//! "Notifications"): the list behind `GET /conferences/{id}/messages` and the resend. The
//! outbox itself, and how messages are queued and sent, is [`super::outbox`]; this file stands
//! above the write driver, which the outbox stands below.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::audit::{Audited, ResourceKind};
use super::outbox::queued;
use super::write::{self, Scope, UNCONDITIONAL};
use super::{paginate, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::outbox;
use crate::domain::mail::MailKind;

/// One e-mail of `GET /conferences/{id}/messages`: its delivery state, never its body.
#[derive(Debug, Clone, Serialize, Queryable, PartialEq)]
pub struct MessageState {
    /// UUID v7 (also its `Message-ID`).
    pub id: Uuid,
    /// `invitation`, `nomination_decided`, `credentials_reviewed`, `password_reset` or
    /// `nominations_closing`.
    pub kind: String,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The columns of a [`MessageState`], in its order.
/// A resend is logged as the message's change (its `status` back to `pending`).
impl Audited for MessageState {
    const KIND: ResourceKind = ResourceKind::Message;
    type Repr = MessageState;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> MessageState {
        self.clone()
    }
}

type MessageColumns = (
    outbox::id,
    outbox::kind,
    outbox::recipient,
    outbox::subject,
    outbox::status,
    outbox::attempts,
    outbox::last_error,
    outbox::created_at,
    outbox::sent_at,
);
const MESSAGE_COLUMNS: MessageColumns = (
    outbox::id,
    outbox::kind,
    outbox::recipient,
    outbox::subject,
    outbox::status,
    outbox::attempts,
    outbox::last_error,
    outbox::created_at,
    outbox::sent_at,
);

/// Filters of `GET .../messages`.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
    /// One e-mail kind.
    pub kind: Option<String>,
}

/// The e-mails of a conference, newest first, keyset-paginated on the id.
pub async fn messages(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    filter: &MessageFilter,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<MessageState>> {
    let mut query = outbox::table
        .filter(outbox::conference_id.eq(conference_id))
        .filter(outbox::channel.eq("email"))
        .order(outbox::id.desc())
        .limit(page.limit + 1)
        .select(MESSAGE_COLUMNS)
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(outbox::status.eq(status.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(outbox::kind.eq(kind.clone()));
    }
    if let Some(after) = page.after {
        query = query.filter(outbox::id.lt(after));
    }
    let rows: Vec<MessageState> = query.load(conn).await?;
    Ok(paginate(rows, page.limit, |r| r.id, |r| r))
}

/// Queues e-mail `id` of a conference again (organisers of the conference, [`Need::Write`],
/// checked in the transaction): pending, due now, its attempts and last error kept. Errors:
/// the access refusal; 404 for no such e-mail of that conference; 409 for an invitation or a
/// password reset, whose code was erased on delivery (invite again instead); 422 for a body
/// with fields (`input`).
pub async fn resend(
    conn: &mut AsyncPgConnection,
    caller: super::Caller,
    conference_id: Uuid,
    id: Uuid,
    input: write::Input<()>,
) -> Result<MessageState, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    let state = write::run(conn, scope, async |tx| {
        input.value()?;
        requeue(tx, conference_id, id).await
    })
    .await?;
    queued().notify_waiters();
    Ok(state)
}

async fn requeue(
    tx: &mut write::Tx<'_>,
    conference_id: Uuid,
    id: Uuid,
) -> Result<MessageState, StoreError> {
    let before: Option<MessageState> = outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::conference_id.eq(conference_id))
        .filter(outbox::channel.eq("email"))
        .select(MESSAGE_COLUMNS)
        .for_update()
        .first(tx.conn)
        .await
        .optional()?;
    let before =
        before.ok_or_else(|| StoreError::not_found("no such message of this conference"))?;
    if MailKind::parse(&before.kind).is_some_and(MailKind::carries_code) {
        return Err(StoreError::Conflict(
            "this message carried a one-time code, erased when it was delivered; invite the focal point again instead".into(),
        ));
    }
    let after = diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(diesel::dsl::now),
            outbox::leased_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(MESSAGE_COLUMNS)
        .get_result(tx.conn)
        .await?;
    tx.updated(&before, &after);
    Ok(after)
}
