//! Per-conference revisions (table `conference_revisions`, migration
//! `2026-12-04-000001_conference_revisions`): the number that tells every Plenary instance
//! whether what it holds of a conference's public reads is still current.
//!
//! The bump ([`push_bump`]) runs inside every audited write ([`super::write`]), after the
//! write and right before COMMIT, in the driver's last statement: it upserts each touched conference's row, taking the next value of
//! `conference_revision_seq` *after* the row lock is held, so one conference's revisions grow
//! in commit order, and records the writing transaction's id. Every instance reads what
//! changed with [`changed_since`] ([`crate::freshness`]).

use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, BigInt, Nullable, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

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

/// The conferences of `ids` whose revisions a write bumps, in the order their rows are locked:
/// sorted (no deadlock between two writes touching the same conferences), each once.
pub fn to_bump(ids: &[Uuid]) -> Vec<Uuid> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Writes the bump of `ids` ([`to_bump`]) as one part of the write driver's last statement
/// before COMMIT ([`super::write`]): an upsert that gives each conference its next revision,
/// taking the value of `conference_revision_seq` once the row lock is held and recording the
/// writing transaction's id, and returns `(conference_id, revision)` rows.
pub fn push_bump<'b>(mut out: AstPass<'_, 'b, Pg>, ids: &'b Vec<Uuid>) -> QueryResult<()> {
    out.push_sql(
        "INSERT INTO conference_revisions AS r (conference_id, revision) \
         SELECT id, nextval('conference_revision_seq') FROM unnest(",
    );
    out.push_bind_param::<Array<SqlUuid>, _>(ids)?;
    out.push_sql(
        "::uuid[]) AS t(id) \
         ON CONFLICT (conference_id) DO UPDATE \
             SET revision = nextval('conference_revision_seq'), xid = pg_current_xact_id() \
         RETURNING r.conference_id, r.revision",
    );
    Ok(())
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

#[derive(diesel::QueryableByName)]
struct Changed {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    conference_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<BigInt>)]
    revision: Option<i64>,
}

/// What changed since a previous call: the revisions bumped by every transaction whose id is
/// at least `since` (0: every conference's), and the `xmin` of this statement's snapshot (the
/// oldest transaction still running), to pass as `since` next time. Every transaction that
/// commits after this snapshot has an id of at least that `xmin`, so a sequence of calls
/// misses no committed bump, whatever order transactions commit in (a bump may be returned
/// more than once). Everything committed before the call started is in its answer.
pub async fn changed_since(
    conn: &mut AsyncPgConnection,
    since: i64,
) -> diesel::QueryResult<(i64, Vec<(Uuid, i64)>)> {
    let rows: Vec<Changed> = diesel::sql_query(
        "SELECT s.xmin, r.conference_id, r.revision \
         FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS s \
         LEFT JOIN conference_revisions AS r ON r.xid >= $1::text::xid8",
    )
    .bind::<BigInt, _>(since)
    .load(conn)
    .await?;
    let xmin = <[Changed]>::first(&rows).map_or(since, |r| r.xmin);
    let changed = rows
        .into_iter()
        .filter_map(|r| Some((r.conference_id?, r.revision?)))
        .collect();
    Ok((xmin, changed))
}
