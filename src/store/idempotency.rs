//! `Idempotency-Key` records: one per (organiser, key), kept 24 hours.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

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
}

/// Claims a key for a new request. `true` when this request owns it now: the key was unused,
/// expired, or abandoned by a crashed first request with the same hash.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    organiser: Uuid,
    key: &str,
    request_hash: &str,
) -> QueryResult<bool> {
    let expired = Utc::now() - chrono::Duration::hours(KEY_TTL_HOURS);
    let abandoned = Utc::now() - chrono::Duration::seconds(ABANDONED_AFTER_SECONDS);
    // Forget expired keys of this organiser (and any abandoned claim of this key).
    diesel::delete(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::created_at.lt(expired)),
    )
    .execute(conn)
    .await?;
    diesel::delete(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::key.eq(key))
            .filter(k::request_hash.eq(request_hash))
            .filter(k::response_status.is_null())
            .filter(k::created_at.lt(abandoned)),
    )
    .execute(conn)
    .await?;
    let inserted = diesel::insert_into(k::table)
        .values((
            k::organiser_id.eq(organiser),
            k::key.eq(key),
            k::request_hash.eq(request_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
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
        ))
        .first(conn)
        .await
        .optional()
}

/// Stores the first response of a key.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    organiser: Uuid,
    key: &str,
    status: u16,
    headers: Value,
    body: &[u8],
) -> QueryResult<()> {
    diesel::update(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::key.eq(key)),
    )
    .set((
        k::response_status.eq(i32::from(status)),
        k::response_headers.eq(headers),
        k::response_body.eq(body),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a key (the first request failed with a server error and may be retried).
pub async fn release(conn: &mut AsyncPgConnection, organiser: Uuid, key: &str) -> QueryResult<()> {
    diesel::delete(
        k::table
            .filter(k::organiser_id.eq(organiser))
            .filter(k::key.eq(key)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
