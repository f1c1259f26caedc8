//! The outbox: every message that leaves Plenary (API.md, "Notifications: e-mail and
//! webhooks"), e-mails and webhook deliveries alike, as rows of one table with one delivery
//! state.
//!
//! - **Written with the write.** The write driver ([`super::write`]) inserts the messages a
//!   write causes in that write's last statement before COMMIT: e-mails the store function
//!   asked for ([`super::write::Tx::notify`]), and one webhook delivery per matching webhook
//!   for each event ([`Event`]) its audit entries make. A write that rolls back sends nothing;
//!   a committed one is delivered at least once.
//! - **Claimed by one sender.** Every instance runs a sender (`crate::notify`) that claims due
//!   rows with `FOR UPDATE SKIP LOCKED` and leases them ([`claim`]): while the lease runs no
//!   other sender takes the row, so two instances send one message twice only when the first
//!   died while sending (its lease then runs out). A second delivery carries the same id (the
//!   e-mail's `Message-ID`, the delivery's `webhook-id`).
//! - **Ordered per webhook.** A webhook's deliveries leave in the order their writes committed:
//!   a delivery is claimed only when no earlier one of its webhook is pending. "Earlier" is the
//!   conference's revision the write bumped (revisions rise in commit order, since each write
//!   bumps under the revision row's lock), then the insertion order within one write.
//! - **Retried, then failed.** A transient failure (connection refused, SMTP 4xx, a webhook's
//!   non-2xx) is tried again after growing delays for at least 24 hours ([`RETRY_FOR`]); a
//!   permanent one (SMTP 5xx) is `failed` at once. Codes in an e-mail's context (`code`) are
//!   erased once it is sent or has failed for good.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use super::audit::{Action, ResourceKind};
use super::new_id;
use crate::db::schema::{focal_points, organisers, outbox};
use crate::domain::mail::{self, MailKind};

/// How long a transient failure is retried before the message is `failed`: at least 24 hours
/// (API.md), measured from the message's creation.
pub const RETRY_FOR: Duration = Duration::hours(25);

/// The webhook event types (API.md, "Webhooks"); `*` subscribes to all of them.
pub use crate::domain::webhook::EVENT_TYPES;

/// Woken after a write committed messages, so this instance's sender starts at once instead
/// of at its next poll.
static QUEUED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// What the sender waits on between polls: notified when this instance committed messages.
pub fn queued() -> &'static Notify {
    &QUEUED
}

/// An e-mail to queue: its kind, recipient and template context (`crate::domain::mail`).
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// UUID v7: the row's id and the `Message-ID`.
    pub id: Uuid,
    /// Which of the contract's e-mails.
    pub kind: MailKind,
    /// The conference whose organisers see it in `GET .../messages` (none for a reset).
    pub conference_id: Option<Uuid>,
    /// The recipient's address.
    pub to: String,
    /// The recipient's name.
    pub to_name: String,
    /// The subject line, rendered when queued (what `GET .../messages` shows).
    pub subject: String,
    /// The template context; a `code` in it is erased once the message is sent.
    pub context: Value,
    /// A key that makes the message once-only (the reminder per focal point and conference).
    pub dedupe_key: Option<String>,
}

impl Email {
    /// An e-mail of `kind` to `to` (`to_name`) with `context`; its subject rendered now.
    /// The context gains `recipient_name`.
    pub fn new(
        kind: MailKind,
        conference_id: Option<Uuid>,
        to: &str,
        to_name: &str,
        mut context: Value,
    ) -> Self {
        if let Some(map) = context.as_object_mut() {
            map.insert("recipient_name".into(), Value::String(to_name.to_string()));
        }
        let subject = mail::subject(kind, &context);
        Email {
            id: new_id(),
            kind,
            conference_id,
            to: to.to_string(),
            to_name: to_name.to_string(),
            subject,
            context,
            dedupe_key: None,
        }
    }
}

/// A webhook event: what one audit entry (or a named step such as a decided nomination) tells
/// a conference's webhooks. `data` is the resource as organisers read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The conference whose webhooks receive it.
    pub conference_id: Uuid,
    /// The delegation the resource belongs to (members, credentials, the delegation itself).
    pub delegation_id: Option<Uuid>,
    /// One of [`EVENT_TYPES`].
    pub kind: &'static str,
    /// The resource.
    pub data: Value,
}

impl Event {
    /// The event of a logged write of `kind` (`action`), whose representation is now (or
    /// was, for a deletion) `repr`; `None` when no event type describes it (a conference
    /// created or deleted, grants, focal points, sessions, the protocol order).
    pub fn of_write(kind: ResourceKind, action: Action, repr: &Value) -> Option<&'static str> {
        use Action::*;
        use ResourceKind as K;
        Some(match (kind, action) {
            (K::Conference, Update) => "conference.updated",
            (K::Delegation, Create) => "delegation.created",
            (K::Delegation, Update) => "delegation.updated",
            (K::Delegation, Delete) => "delegation.deleted",
            (K::Member, Create) => "member.created",
            (K::Member, Update) => "member.updated",
            (K::Member, Delete) => "member.deleted",
            (K::Credentials, Create | Update) => {
                if repr.get("status").and_then(Value::as_str) == Some("submitted") {
                    "credentials.submitted"
                } else {
                    "credentials.reviewed"
                }
            }
            (K::Edition, Create) => "edition.published",
            (K::SessionAttendance, Create | Update) => "presence.updated",
            _ => return None,
        })
    }

    /// True when a member's change from `before` to `after` is an organiser's decision on a
    /// nomination: its `nomination_status` became `accepted` or `rejected`.
    pub fn is_decision(before: &Value, after: &Value) -> bool {
        let status = |v: &Value| {
            v.get("nomination_status")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (b, a) = (status(before), status(after));
        b != a && matches!(a.as_deref(), Some("accepted" | "rejected"))
    }
}

/// The messages of one write, as columns: what the write driver's last statement inserts
/// ([`Outgoing::push_inserts`]).
#[derive(Debug, Default)]
pub struct Outgoing {
    event_kinds: Vec<&'static str>,
    event_conferences: Vec<Uuid>,
    event_delegations: Vec<Option<Uuid>>,
    event_data: Vec<Value>,
    mail_ids: Vec<Uuid>,
    mail_kinds: Vec<&'static str>,
    mail_conferences: Vec<Option<Uuid>>,
    mail_to: Vec<String>,
    mail_names: Vec<String>,
    mail_subjects: Vec<String>,
    mail_context: Vec<Value>,
    mail_dedupe: Vec<Option<String>>,
}

impl Outgoing {
    /// The rows for `events` and `emails`.
    pub fn of(events: &[Event], emails: &[Email]) -> Self {
        let mut out = Outgoing::default();
        for e in events {
            out.event_kinds.push(e.kind);
            out.event_conferences.push(e.conference_id);
            out.event_delegations.push(e.delegation_id);
            out.event_data.push(e.data.clone());
        }
        for m in emails {
            out.mail_ids.push(m.id);
            out.mail_kinds.push(m.kind.as_str());
            out.mail_conferences.push(m.conference_id);
            out.mail_to.push(m.to.clone());
            out.mail_names.push(m.to_name.clone());
            out.mail_subjects.push(m.subject.clone());
            out.mail_context.push(m.context.clone());
            out.mail_dedupe.push(m.dedupe_key.clone());
        }
        out
    }

    /// True when the write queues nothing.
    pub fn is_empty(&self) -> bool {
        self.event_kinds.is_empty() && self.mail_ids.is_empty()
    }

    /// Writes the two inserts as parts of the write driver's last `WITH` ([`super::write`]):
    /// `hooked`, one delivery per event and matching webhook, ordered by the revision that
    /// `bumped` (the preceding part) gave the event's conference; and `mailed`, the e-mails.
    /// Fixed SQL whatever the numbers, so the statement stays prepared.
    pub fn push_inserts<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "hooked AS (INSERT INTO outbox \
             (id, channel, kind, conference_id, webhook_id, recipient, payload, revision) \
             SELECT plenary_uuid_v7(), 'webhook', e.kind, e.conference_id, w.id, w.url, \
             jsonb_build_object('type', e.kind, 'timestamp', \
             to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
             'conference_id', e.conference_id, 'delegation_id', e.delegation_id, \
             'data', e.data), \
             (SELECT max(b.revision) FROM bumped AS b WHERE b.conference_id = e.conference_id) \
             FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.event_kinds)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.event_conferences)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.event_delegations)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Jsonb>, _>(&self.event_data)?;
        out.push_sql(
            "::jsonb[]) WITH ORDINALITY AS e(kind, conference_id, delegation_id, data, n) \
             JOIN webhooks AS w ON w.conference_id = e.conference_id \
             AND (e.kind = ANY (w.events) OR '*' = ANY (w.events)) \
             ORDER BY e.n, w.id RETURNING 1), \
             mailed AS (INSERT INTO outbox \
             (id, channel, kind, conference_id, recipient, recipient_name, subject, payload, \
             dedupe_key) \
             SELECT m.id, 'email', m.kind, m.conference_id, m.recipient, m.name, m.subject, \
             m.payload, m.dedupe_key FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.mail_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Text>, _>(&self.mail_kinds)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.mail_conferences)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Text>, _>(&self.mail_to)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.mail_names)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.mail_subjects)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Jsonb>, _>(&self.mail_context)?;
        out.push_sql("::jsonb[], ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.mail_dedupe)?;
        out.push_sql(
            "::text[]) AS m(id, kind, conference_id, recipient, name, subject, payload, \
             dedupe_key) ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1)",
        );
        Ok(())
    }
}

/// The active focal points of a delegation, as `(email, name)`: who hears of its decided
/// nominations and reviewed credentials.
pub async fn focal_points_of(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
) -> QueryResult<Vec<(String, String)>> {
    focal_points::table
        .inner_join(organisers::table.on(organisers::id.nullable().eq(focal_points::organiser_id)))
        .filter(focal_points::delegation_id.eq(delegation_id))
        .filter(focal_points::accepted_at.is_not_null())
        .filter(focal_points::revoked_at.is_null())
        .filter(organisers::disabled_at.is_null())
        .order(focal_points::id.asc())
        .select((organisers::email, organisers::name))
        .load(conn)
        .await
}

/// The e-mails of `kind` to the active focal points of a delegation, each with the
/// conference's context ([`conference_context`]) and `extra`.
pub async fn to_focal_points(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
    kind: MailKind,
    extra: serde_json::Map<String, Value>,
) -> QueryResult<Vec<Email>> {
    let recipients = focal_points_of(conn, delegation_id).await?;
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let mut context = conference_context(conn, conference_id, Some(delegation_id)).await?;
    context.insert(
        "portal_page".into(),
        portal_page(conference_id, delegation_id),
    );
    context.extend(extra);
    let context = Value::Object(context);
    Ok(recipients
        .iter()
        .map(|(email, name)| Email::new(kind, Some(conference_id), email, name, context.clone()))
        .collect())
}

/// The path of a delegation's page in the focal points' portal (`portal_page` of an
/// e-mail's context; the sender makes it a link under the server's public URL).
fn portal_page(conference_id: Uuid, delegation_id: Uuid) -> Value {
    format!("/portal/conferences/{conference_id}/delegations/{delegation_id}").into()
}

/// The context every conference e-mail shares: the conference's title, dates and time zone,
/// and the delegation's name (`delegation`) when given. Errors: the database's.
pub async fn conference_context(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Option<Uuid>,
) -> QueryResult<serde_json::Map<String, Value>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        title: String,
        #[diesel(sql_type = Text)]
        start_date: String,
        #[diesel(sql_type = Text)]
        end_date: String,
        #[diesel(sql_type = Text)]
        time_zone: String,
        #[diesel(sql_type = Nullable<Text>)]
        nominations_close_at: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        delegation: Option<String>,
    }
    let row: Row = diesel::sql_query(
        "SELECT c.title, c.start_date::text AS start_date, c.end_date::text AS end_date, \
         c.time_zone, \
         to_char(c.nominations_close_at AT TIME ZONE c.time_zone, 'YYYY-MM-DD HH24:MI') \
           AS nominations_close_at, \
         (SELECT coalesce(co.name, o.name) FROM delegations AS d \
            LEFT JOIN countries AS co ON co.code = d.country \
            LEFT JOIN organisations AS o ON o.id = d.organisation_id \
            WHERE d.id = $2) AS delegation \
         FROM conferences AS c WHERE c.id = $1",
    )
    .bind::<SqlUuid, _>(conference_id)
    .bind::<Nullable<SqlUuid>, _>(delegation_id)
    .get_result(conn)
    .await?;
    let mut ctx = serde_json::Map::new();
    ctx.insert(
        "conference_id".into(),
        Value::String(conference_id.to_string()),
    );
    ctx.insert("conference".into(), Value::String(row.title));
    ctx.insert("start_date".into(), Value::String(row.start_date));
    ctx.insert("end_date".into(), Value::String(row.end_date));
    ctx.insert("time_zone".into(), Value::String(row.time_zone));
    if let Some(close) = row.nominations_close_at {
        ctx.insert("nominations_close_at".into(), Value::String(close));
    }
    if let Some(d) = row.delegation {
        ctx.insert("delegation".into(), Value::String(d));
    }
    Ok(ctx)
}

/// A message claimed for delivery by one sender, leased until it reports back.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// The message id (`Message-ID`, `webhook-id`).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// `email` or `webhook`.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// The e-mail's kind or the event's type.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The address or URL.
    #[diesel(sql_type = Text)]
    pub recipient: String,
    /// The recipient's name (e-mails).
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient_name: Option<String>,
    /// The subject line (e-mails).
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    /// Template context (e-mails) or body (webhooks).
    #[diesel(sql_type = Jsonb)]
    pub payload: Value,
    /// Attempts so far, this one included.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// When the message was queued.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The webhook's signing secret (`whsec_...`), for deliveries.
    #[diesel(sql_type = Nullable<Text>)]
    pub secret: Option<String>,
}

/// Claims up to `limit` due messages and leases them for `lease`: pending, due, not leased by
/// a live sender, and (for a webhook delivery) with no earlier pending delivery of the same
/// webhook. `FOR UPDATE SKIP LOCKED`, so concurrent senders on other instances claim other
/// rows. Each claim counts as an attempt.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: std::time::Duration,
) -> QueryResult<Vec<Claimed>> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    diesel::sql_query(
        "UPDATE outbox AS o SET leased_until = now() + $2 * interval '1 millisecond', \
           attempts = o.attempts + 1 \
         WHERE o.id IN ( \
           SELECT c.id FROM outbox AS c \
           WHERE c.status = 'pending' AND c.next_attempt_at <= now() \
             AND (c.leased_until IS NULL OR c.leased_until < now()) \
             AND (c.webhook_id IS NULL OR NOT EXISTS ( \
               SELECT 1 FROM outbox AS p WHERE p.webhook_id = c.webhook_id \
                 AND p.status = 'pending' \
                 AND (p.revision, p.seq) < (c.revision, c.seq))) \
           ORDER BY c.next_attempt_at, c.seq LIMIT $1 \
           FOR UPDATE SKIP LOCKED) \
         RETURNING o.id, o.channel, o.kind, o.recipient, o.recipient_name, o.subject, \
           o.payload, o.attempts, o.created_at, \
           (SELECT w.secret FROM webhooks AS w WHERE w.id = o.webhook_id) AS secret",
    )
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(lease_ms)
    .load(conn)
    .await
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (an e-mail accepted by the relay or written; a webhook answered 2xx).
    Delivered {
        /// The webhook receiver's status code.
        status_code: Option<u16>,
    },
    /// Try again later (connection refused, SMTP 4xx, a webhook's non-2xx or timeout).
    Transient {
        /// What went wrong, for `last_error`.
        error: String,
        /// The webhook receiver's status code, if it answered.
        status_code: Option<u16>,
    },
    /// Do not try again (SMTP 5xx, an address the rules refuse).
    Permanent {
        /// What went wrong, for `last_error`.
        error: String,
        /// The receiver's status code, if it answered.
        status_code: Option<u16>,
    },
}

/// The pause before attempt `attempts + 1` after a transient failure: `base` doubled per
/// attempt up to an hour, plus up to a quarter of random jitter.
pub fn backoff(base: std::time::Duration, attempts: i32) -> std::time::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let delay = base
        .saturating_mul(1u32 << doublings)
        .min(std::time::Duration::from_secs(3600));
    let jitter_ms = u64::try_from(delay.as_millis() / 4).unwrap_or(0);
    delay + std::time::Duration::from_millis(rand::random::<u64>() % jitter_ms.max(1))
}

/// Records how `message`'s attempt ended and ends its lease: `sent` (codes erased), back to
/// pending after `retry_after` (or `failed` once it was retried for [`RETRY_FOR`]), or
/// `failed` (codes erased).
pub async fn record(
    conn: &mut AsyncPgConnection,
    message: &Claimed,
    outcome: &Outcome,
    retry_after: std::time::Duration,
) -> QueryResult<()> {
    let code = |c: &Option<u16>| c.map(i32::from);
    match outcome {
        Outcome::Delivered { status_code } => {
            diesel::update(outbox::table.find(message.id))
                .set((
                    outbox::status.eq("sent"),
                    outbox::sent_at.eq(Some(Utc::now())),
                    outbox::leased_until.eq(None::<DateTime<Utc>>),
                    outbox::last_error.eq(None::<String>),
                    outbox::last_status_code.eq(code(status_code)),
                    outbox::payload.eq(erase_code(&message.payload)),
                ))
                .execute(conn)
                .await?;
        }
        Outcome::Transient { error, status_code }
            if Utc::now() - message.created_at < RETRY_FOR =>
        {
            let after = Duration::from_std(retry_after).unwrap_or(Duration::hours(1));
            diesel::update(outbox::table.find(message.id))
                .set((
                    outbox::next_attempt_at.eq(Utc::now() + after),
                    outbox::leased_until.eq(None::<DateTime<Utc>>),
                    outbox::last_error.eq(Some(error.as_str())),
                    outbox::last_status_code.eq(code(status_code)),
                ))
                .execute(conn)
                .await?;
        }
        Outcome::Transient { error, status_code } | Outcome::Permanent { error, status_code } => {
            diesel::update(outbox::table.find(message.id))
                .set((
                    outbox::status.eq("failed"),
                    outbox::leased_until.eq(None::<DateTime<Utc>>),
                    outbox::last_error.eq(Some(error.as_str())),
                    outbox::last_status_code.eq(code(status_code)),
                    outbox::payload.eq(erase_code(&message.payload)),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// `payload` without its `code` (an invitation's or a password reset's).
fn erase_code(payload: &Value) -> Value {
    let mut p = payload.clone();
    if let Some(map) = p.as_object_mut() {
        map.remove("code");
    }
    p
}

/// Queues the `nominations_closing` reminder for every active focal point of every conference
/// whose `nominations_close_at` is less than `hours` away (and not past): once per focal point
/// and conference, whatever the number of instances (the reminder's `dedupe_key` is unique).
/// Returns how many were queued.
pub async fn queue_reminders(conn: &mut AsyncPgConnection, hours: i64) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = SqlUuid)]
        focal_point: Uuid,
        #[diesel(sql_type = SqlUuid)]
        conference_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        delegation_id: Uuid,
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = Text)]
        name: String,
    }
    let due: Vec<Due> = diesel::sql_query(
        "SELECT fp.id AS focal_point, fp.conference_id, fp.delegation_id, o.email, o.name \
         FROM focal_points AS fp \
         JOIN conferences AS c ON c.id = fp.conference_id \
         JOIN organisers AS o ON o.id = fp.organiser_id \
         WHERE fp.accepted_at IS NOT NULL AND fp.revoked_at IS NULL AND o.disabled_at IS NULL \
           AND c.nominations_close_at > now() \
           AND c.nominations_close_at <= now() + $1 * interval '1 hour' \
           AND NOT EXISTS (SELECT 1 FROM outbox AS m \
             WHERE m.dedupe_key = 'nominations_closing:' || fp.id) \
         LIMIT 500",
    )
    .bind::<BigInt, _>(hours)
    .load(conn)
    .await?;
    let mut queued = 0;
    for d in due {
        let mut ctx = conference_context(conn, d.conference_id, Some(d.delegation_id)).await?;
        ctx.insert(
            "portal_page".into(),
            portal_page(d.conference_id, d.delegation_id),
        );
        let mut email = Email::new(
            MailKind::NominationsClosing,
            Some(d.conference_id),
            &d.email,
            &d.name,
            Value::Object(ctx),
        );
        email.dedupe_key = Some(format!("nominations_closing:{}", d.focal_point));
        queued += insert_emails(conn, &[email]).await?;
    }
    Ok(queued)
}

/// Queues e-mails outside an audited write (a password reset, a reminder); a duplicate
/// `dedupe_key` queues nothing. Returns how many were queued.
pub async fn insert_emails(conn: &mut AsyncPgConnection, emails: &[Email]) -> QueryResult<usize> {
    let rows = Outgoing::of(&[], emails);
    let n = diesel::sql_query(
        "INSERT INTO outbox (id, channel, kind, conference_id, recipient, recipient_name, \
         subject, payload, dedupe_key) \
         SELECT m.id, 'email', m.kind, m.conference_id, m.recipient, m.name, m.subject, \
         m.payload, m.dedupe_key \
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], \
         $7::jsonb[], $8::text[]) \
         AS m(id, kind, conference_id, recipient, name, subject, payload, dedupe_key) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&rows.mail_ids)
    .bind::<Array<Text>, _>(&rows.mail_kinds)
    .bind::<Array<Nullable<SqlUuid>>, _>(&rows.mail_conferences)
    .bind::<Array<Text>, _>(&rows.mail_to)
    .bind::<Array<Text>, _>(&rows.mail_names)
    .bind::<Array<Text>, _>(&rows.mail_subjects)
    .bind::<Array<Jsonb>, _>(&rows.mail_context)
    .bind::<Array<Nullable<Text>>, _>(&rows.mail_dedupe)
    .execute(conn)
    .await?;
    if n > 0 {
        queued().notify_waiters();
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_event_a_write_makes_is_a_contract_event_type() {
        use Action::*;
        use ResourceKind as K;
        let kinds = [
            K::Conference,
            K::ConferenceOrganiser,
            K::Organisation,
            K::Delegation,
            K::Member,
            K::Session,
            K::SessionAttendance,
            K::ProtocolOrder,
            K::FocalPoint,
            K::Credentials,
            K::Edition,
            K::Webhook,
        ];
        for kind in kinds {
            for action in [Create, Update, Delete] {
                for status in ["submitted", "verified"] {
                    if let Some(e) = Event::of_write(kind, action, &json!({ "status": status })) {
                        assert!(EVENT_TYPES.contains(&e), "{e}");
                    }
                }
            }
        }
        assert_eq!(
            Event::of_write(K::Credentials, Update, &json!({"status": "rejected"})),
            Some("credentials.reviewed")
        );
    }

    #[test]
    fn a_decision_is_a_nomination_status_becoming_accepted_or_rejected() {
        let n = json!({"nomination_status": "nominated"});
        let a = json!({"nomination_status": "accepted"});
        let r = json!({"nomination_status": "rejected"});
        assert!(Event::is_decision(&n, &a));
        assert!(Event::is_decision(&a, &r));
        assert!(!Event::is_decision(&a, &a));
        assert!(!Event::is_decision(&a, &n));
    }

    #[test]
    fn backoff_grows_and_stays_under_an_hour_and_a_quarter() {
        let base = std::time::Duration::from_secs(30);
        assert!(backoff(base, 1) >= base);
        assert!(backoff(base, 3) >= base * 4);
        assert!(backoff(base, 30) <= std::time::Duration::from_secs(4500));
    }

    #[test]
    fn a_code_is_erased_and_the_rest_kept() {
        let p = erase_code(&json!({"code": "x", "conference": "C"}));
        assert_eq!(p, json!({"conference": "C"}));
    }
}
