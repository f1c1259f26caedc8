//! A conference's webhooks (API.md, "Notifications: e-mail and webhooks"): registered,
//! listed and deleted by its organisers through the audited-write driver, and the state of
//! their deliveries, which are rows of the outbox ([`super::outbox`]) with the webhook's id.
//!
//! The secret signs every delivery, so it is kept in the `webhooks` table; it leaves the store
//! only in what [`create`] returns (shown once by the route) and in the sender's claims. The
//! audit log's representation ([`Webhook`]) never holds it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::audit::ResourceKind;
use super::write::{self, Audited, Scope, UNCONDITIONAL};
use super::{new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::{outbox, webhooks};
use crate::domain::precondition::IfMatch;
use crate::domain::webhook::NewWebhook;

const NO_SUCH_WEBHOOK: &str = "no such webhook in this conference";

/// A webhook as organisers read it (and as the audit log records it): never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    /// UUID v7.
    pub id: Uuid,
    /// Where deliveries are sent (`POST`).
    pub url: String,
    /// Event types, or `["*"]` for all.
    pub events: Vec<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl Audited for Webhook {
    const KIND: ResourceKind = ResourceKind::Webhook;
    type Repr = Webhook;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Webhook {
        self.clone()
    }
}

/// A webhook just registered, with its secret (for the one response that shows it).
#[derive(Debug, Clone)]
pub struct Registered {
    /// The webhook.
    pub webhook: Webhook,
    /// `whsec_` and the base64 of 32 random bytes.
    pub secret: String,
}

/// Who registers and deletes a conference's webhooks: its organisers. The one statement of
/// the rule, for [`may_register`], [`create`] and [`delete`].
const MANAGING: Need = Need::Write;

/// Checks that `caller` may register a webhook of conference `conference_id` (the rule of
/// [`create`], which checks it again inside its transaction), before the route validates the
/// body and resolves its URL's host: others learn nothing from the validation and cause no
/// DNS look-up. Errors: 401/403/404 (access).
pub async fn may_register(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
) -> Result<(), StoreError> {
    super::standing::conference(conn, Some(caller), conference_id, MANAGING).await?;
    Ok(())
}

/// Registers a webhook of conference `conference_id` by `caller` (organisers, [`MANAGING`],
/// checked in the transaction; audited without the secret) signed with `secret`. Errors: the
/// access refusal.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    new: &NewWebhook,
    secret: &str,
) -> Result<Registered, StoreError> {
    let scope = Scope::conference(caller, conference_id, MANAGING, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        let webhook: Webhook = diesel::insert_into(webhooks::table)
            .values((
                webhooks::id.eq(new_id()),
                webhooks::conference_id.eq(conference_id),
                webhooks::url.eq(new.url.as_str()),
                webhooks::events.eq(&new.events),
                webhooks::secret.eq(secret),
                webhooks::created_by.eq(Some(caller.id)),
            ))
            .returning(Webhook::as_returning())
            .get_result(tx.conn)
            .await?;
        tx.created(&webhook);
        Ok(Registered {
            webhook,
            secret: secret.to_string(),
        })
    })
    .await
}

/// The webhooks of a conference, oldest first, keyset-paginated on the id.
pub async fn list(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<Webhook>> {
    let mut query = webhooks::table
        .filter(webhooks::conference_id.eq(conference_id))
        .order(webhooks::id.asc())
        .limit(page.limit + 1)
        .select(Webhook::as_select())
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(webhooks::id.gt(after));
    }
    let rows: Vec<Webhook> = query.load(conn).await?;
    Ok(paginate(rows, page.limit, |r| r.id, |r| r))
}

/// One webhook of a conference. Errors: 404.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
) -> Result<Webhook, StoreError> {
    webhooks::table
        .filter(webhooks::conference_id.eq(conference_id))
        .filter(webhooks::id.eq(id))
        .select(Webhook::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_WEBHOOK))
}

/// Deletes a webhook if `if_match` holds (organisers, audited): its pending deliveries go with
/// it (one being sent at that moment is dropped by the sender, which finds no secret).
/// Errors: the access refusal, 404, 412.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    write::delete(
        conn,
        Scope::conference(caller, conference_id, MANAGING, if_match),
        async |conn| {
            webhooks::table
                .filter(webhooks::conference_id.eq(conference_id))
                .filter(webhooks::id.eq(id))
                .select(Webhook::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| StoreError::not_found(NO_SUCH_WEBHOOK))
        },
        async |conn, _| {
            diesel::delete(webhooks::table.find(id))
                .execute(conn)
                .await?;
            Ok(())
        },
    )
    .await
}

/// One delivery of a webhook: its delivery state, never its body.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// UUID v7: the `webhook-id` header of every attempt.
    pub id: Uuid,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: &'static str,
    /// Attempts so far.
    pub attempts: i32,
    /// The receiver's status code at the last attempt, if it answered.
    pub last_status_code: Option<i32>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When the write that caused it committed.
    pub created_at: DateTime<Utc>,
    /// When the receiver answered 2xx.
    pub delivered_at: Option<DateTime<Utc>>,
}

type DeliveryRow = (
    i64,
    Uuid,
    String,
    String,
    i32,
    Option<i32>,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// The outbox's status as the deliveries list names it: `sent` is `delivered`.
fn delivery_status(outbox_status: &str) -> &'static str {
    match outbox_status {
        "sent" => "delivered",
        "failed" => "failed",
        _ => "pending",
    }
}

/// The deliveries of webhook `id` of a conference, newest first (by the order they were
/// queued), keyset-paginated. Errors: 404 for no such webhook of that conference.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
    page: &PageRequest<i64>,
) -> Result<Page<Delivery>, StoreError> {
    get(conn, conference_id, id).await?;
    let mut query = outbox::table
        .filter(outbox::webhook_id.eq(id))
        .filter(outbox::channel.eq("webhook"))
        .order(outbox::seq.desc())
        .limit(page.limit + 1)
        .select((
            outbox::seq,
            outbox::id,
            outbox::kind,
            outbox::status,
            outbox::attempts,
            outbox::last_status_code,
            outbox::last_error,
            outbox::created_at,
            outbox::sent_at,
        ))
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(outbox::seq.lt(after));
    }
    let rows: Vec<DeliveryRow> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| r.0,
        |(_, id, kind, status, attempts, last_status_code, last_error, created_at, sent_at)| {
            Delivery {
                id,
                kind,
                status: delivery_status(&status),
                attempts,
                last_status_code,
                last_error,
                created_at,
                delivered_at: sent_at,
            }
        },
    ))
}
