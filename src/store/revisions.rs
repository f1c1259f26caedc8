//! Per-conference revisions (table `conference_revisions`, migration
//! `2026-12-04-000001_conference_revisions`): the number that tells every Plenary instance
//! whether what it holds of a conference's public reads is still current.
//!
//! The bump ([`push_bump`]) runs inside every audited write ([`super::write`]), after the
//! write and right before COMMIT, in the driver's last statement: it upserts each touched conference's row, taking the next value of
//! `conference_revision_seq` *after* the row lock is held, so one conference's revisions grow
//! in commit order, and records the writing transaction's id. Every instance reads what
//! changed with [`changed_since`] ([`crate::freshness`]).

use diesel::deserialize::QueryableByName;
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

/// A snapshot's horizon as PostgreSQL states it (`pg_current_snapshot()`): every transaction
/// with an id below `xmax` and not in `xip` had ended when it was taken, and none at or above
/// `xmax` had.
/// Read as the columns `xmin`, `xmax` and `xip` of a statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, diesel::QueryableByName)]
pub struct Snapshot {
    /// The oldest transaction still running (`pg_snapshot_xmin`).
    #[diesel(sql_type = BigInt)]
    pub xmin: i64,
    /// One past the newest transaction that had ended (`pg_snapshot_xmax`); one at or above it
    /// may be running (PostgreSQL's own wording, "first as-yet-unassigned", is looser).
    #[diesel(sql_type = BigInt)]
    pub xmax: i64,
    /// The transactions running, between the two (`pg_snapshot_xip`).
    #[diesel(sql_type = Array<BigInt>)]
    pub xip: Vec<i64>,
}

#[derive(diesel::QueryableByName)]
struct Changed {
    #[diesel(embed)]
    snapshot: Snapshot,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    conference_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<BigInt>)]
    revision: Option<i64>,
}

/// What changed since a previous call: the revisions bumped by every transaction whose id is
/// at least `since` (0: every conference's), and this statement's snapshot, whose `xmin` (the
/// oldest transaction still running) is `since` next time. Every transaction that commits
/// after this snapshot has an id of at least that `xmin`, so a sequence of calls misses no
/// committed bump, whatever order transactions commit in (a bump may be returned more than
/// once). Everything committed before the call started is in its answer.
pub async fn changed_since(
    conn: &mut AsyncPgConnection,
    since: i64,
) -> diesel::QueryResult<(Snapshot, Vec<(Uuid, i64)>)> {
    let rows: Vec<Changed> = diesel::sql_query(
        "SELECT s.xmin, s.xmax, s.xip, r.conference_id, r.revision \
         FROM (SELECT pg_snapshot_xmin(n.s)::text::bigint AS xmin, \
               pg_snapshot_xmax(n.s)::text::bigint AS xmax, \
               ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(n.s) AS x) AS xip \
               FROM (SELECT pg_current_snapshot() AS s) AS n) AS s \
         LEFT JOIN conference_revisions AS r ON r.xid >= $1::text::xid8",
    )
    .bind::<BigInt, _>(since)
    .load(conn)
    .await?;
    let snapshot = <[Changed]>::first(&rows).map_or_else(
        || Snapshot {
            xmin: since,
            ..Snapshot::default()
        },
        |r| r.snapshot.clone(),
    );
    let changed = rows
        .into_iter()
        .filter_map(|r| Some((r.conference_id?, r.revision?)))
        .collect();
    Ok((snapshot, changed))
}

/// The most transaction ids [`committed_since`] looks at; past it, it answers `None`.
const MOST_CHECKED: i64 = 10_000;

#[derive(diesel::QueryableByName)]
struct Vouched {
    #[diesel(embed)]
    snapshot: Snapshot,
    #[diesel(sql_type = Array<BigInt>)]
    committed: Vec<i64>,
}

/// The transactions that have committed since `base` was taken, asked without reading any
/// table (so a lock on `conference_revisions`, which holds every write's bump too, does not
/// hold it up): the current snapshot `now`, and the ids, in ascending order, of those `base`
/// did not see ended (its running ones and those from its `xmax` on) whose `pg_xact_status`
/// is `committed` (an unknown status counts as committed). When the list is empty, or holds
/// only commits whose revisions the caller already knows (the instance's own writes:
/// [`crate::freshness::Freshness::only_own`]), what a [`changed_since`] with snapshot `base`
/// answered is still all there is, as of `now`. `None` when more than 10 000 ids were
/// assigned since `base`.
pub async fn committed_since(
    conn: &mut AsyncPgConnection,
    base: &Snapshot,
) -> diesel::QueryResult<Option<(Snapshot, Vec<i64>)>> {
    let row: Vouched = diesel::sql_query(
        "SELECT pg_snapshot_xmin(n.s)::text::bigint AS xmin, \
         pg_snapshot_xmax(n.s)::text::bigint AS xmax, \
         ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(n.s) AS x) AS xip, \
         ARRAY(SELECT c.x FROM (SELECT unnest($2::bigint[]) AS x UNION \
           SELECT generate_series($1::bigint, \
             LEAST(pg_snapshot_xmax(n.s)::text::bigint, $1::bigint + $3::bigint) - 1)) AS c \
          WHERE pg_xact_status(c.x::text::xid8) IS DISTINCT FROM 'in progress' \
          AND pg_xact_status(c.x::text::xid8) IS DISTINCT FROM 'aborted' ORDER BY c.x) \
           AS committed \
         FROM (SELECT pg_current_snapshot() AS s) AS n",
    )
    .bind::<BigInt, _>(base.xmax)
    .bind::<Array<BigInt>, _>(&base.xip)
    .bind::<BigInt, _>(MOST_CHECKED)
    .get_result(conn)
    .await?;
    let now = row.snapshot;
    Ok((now.xmax - base.xmax <= MOST_CHECKED).then_some((now, row.committed)))
}
