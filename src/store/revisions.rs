//! Per-conference revisions (table `conference_revisions`, migration
//! `2026-12-04-000001_conference_revisions`): the number that tells every Plenary instance
//! whether what it holds of a conference's public reads is still current.
//!
//! [`bump`] runs inside every audited write ([`super::write`]), after the write and right
//! before COMMIT: it upserts each touched conference's row, taking the next value of
//! `conference_revision_seq` *after* the row lock is held, so one conference's revisions grow
//! in commit order; and it queues `pg_notify('plenary_revisions', '<id>:<revision>')`, which
//! PostgreSQL delivers to the listeners ([`crate::freshness`]) at COMMIT and never for a
//! rolled-back write.

use diesel::sql_types::{Array, BigInt, Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The channel of revision notifications; the payload is `<conference uuid>:<revision>`.
pub const CHANNEL: &str = "plenary_revisions";

#[derive(diesel::QueryableByName)]
struct Bumped {
    #[diesel(sql_type = SqlUuid)]
    conference_id: Uuid,
    #[diesel(sql_type = BigInt)]
    revision: i64,
}

fn pairs(rows: Vec<Bumped>) -> Vec<(Uuid, i64)> {
    rows.into_iter()
        .map(|r| (r.conference_id, r.revision))
        .collect()
}

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = Nullable<BigInt>)]
    revision: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Conference {
    #[diesel(sql_type = SqlUuid)]
    conference_id: Uuid,
}

/// Gives each conference of `ids` its next revision and queues the notification of it; in the
/// caller's transaction. `ids` are locked in sorted order (no deadlock between two writes
/// touching the same conferences). Returns `(conference, revision)` pairs.
pub async fn bump(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> diesel::QueryResult<Vec<(Uuid, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Bumped> = diesel::sql_query(
        "WITH bumped AS ( \
             INSERT INTO conference_revisions AS r (conference_id, revision) \
             SELECT id, nextval('conference_revision_seq') FROM unnest($1::uuid[]) AS t(id) \
             ON CONFLICT (conference_id) DO UPDATE \
                 SET revision = nextval('conference_revision_seq') \
             RETURNING r.conference_id, r.revision) \
         SELECT b.conference_id, b.revision FROM bumped AS b, \
             LATERAL (SELECT pg_notify('plenary_revisions', \
                                       b.conference_id::text || ':' || b.revision)) AS n",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .load(conn)
    .await?;
    Ok(pairs(rows))
}

/// The conferences whose public reads show organisation `id` (through a delegation): an
/// organisation's write changes them.
pub async fn conferences_of_organisation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> diesel::QueryResult<Vec<Uuid>> {
    let rows: Vec<Conference> = diesel::sql_query(
        "SELECT DISTINCT conference_id FROM delegations WHERE organisation_id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.conference_id).collect())
}

/// The committed revision of conference `id` as this connection sees it (0 when it has none).
pub async fn of(conn: &mut AsyncPgConnection, id: Uuid) -> diesel::QueryResult<i64> {
    let row: One =
        diesel::sql_query("SELECT revision FROM conference_revisions WHERE conference_id = $1")
            .bind::<SqlUuid, _>(id)
            .get_result(conn)
            .await
            .or_else(|e| match e {
                diesel::result::Error::NotFound => Ok(One { revision: None }),
                e => Err(e),
            })?;
    Ok(row.revision.unwrap_or(0))
}

/// Every conference's revision, to start from after (re)connecting the listener.
pub async fn all(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Vec<(Uuid, i64)>> {
    let rows: Vec<Bumped> =
        diesel::sql_query("SELECT conference_id, revision FROM conference_revisions")
            .load(conn)
            .await?;
    Ok(pairs(rows))
}

/// Parses a notification payload `<uuid>:<revision>`; `None` for anything else.
pub fn parse_payload(payload: &str) -> Option<(Uuid, i64)> {
    let (id, revision) = payload.split_once(':')?;
    Some((id.parse().ok()?, revision.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_and_garbage_does_not() {
        let id = Uuid::now_v7();
        assert_eq!(parse_payload(&format!("{id}:42")), Some((id, 42)));
        assert_eq!(parse_payload("nonsense"), None);
        assert_eq!(parse_payload(&format!("{id}:x")), None);
        assert_eq!(parse_payload("abc:1"), None);
    }
}
