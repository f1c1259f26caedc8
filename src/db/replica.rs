//! The read replica (`DATABASE_READ_URL`, API.md "Read replicas"): how far behind the primary
//! it is, measured continuously, so that public reads leave it once it lags more than
//! `PLENARY_REPLICA_MAX_LAG_MS` (default 1000) or is down.
//!
//! Every 100 ms the monitor reads the primary's WAL position (`pg_current_wal_lsn()`), keeps
//! it with the time it was read, then reads the replica's replayed position
//! (`pg_last_wal_replay_lsn()`). The newest primary sample the replica has replayed past tells
//! a time `t` at which the replica held everything the primary had: its lag, at any later
//! moment, is at most `now - t` ([`ReplicaStatus::lag`]). A replica that does not answer
//! within 500 ms, or a paused one, keeps its old `t` and so grows out of use by itself. A
//! server that is not in recovery (a promoted replica, or the primary itself) has no lag.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Bool, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// How often the primary and the replica are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// The longest a sampling query may take.
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);

/// The replica's measured state, shared by every HTTP worker.
#[derive(Debug)]
pub struct ReplicaStatus {
    start: Instant,
    /// Nanoseconds since `start` (+1) of the newest moment at which the replica held all the
    /// primary had; 0: never (down, or not measured yet).
    caught_up: AtomicU64,
    max_lag: Duration,
    /// The replica's replayed WAL position at the last sample (`i64::MAX` when it is not in
    /// recovery, -1 before any sample).
    replayed: AtomicI64,
    /// The WAL position a read across conferences needs the replica to have replayed: the
    /// primary's position sampled after the last such read was served by the primary.
    required: AtomicI64,
    /// When (nanoseconds since `start`, +1) the last read across conferences served by the
    /// primary ended; 0: none.
    primary_read: AtomicU64,
    /// When the newest primary sample was started: every primary read that ended before it
    /// is covered by `required`.
    covered: AtomicU64,
}

impl ReplicaStatus {
    /// A replica not yet measured (not usable), to be left when it lags more than `max_lag`.
    pub fn new(max_lag: Duration) -> Self {
        Self {
            start: Instant::now(),
            caught_up: AtomicU64::new(0),
            max_lag,
            replayed: AtomicI64::new(-1),
            required: AtomicI64::new(0),
            primary_read: AtomicU64::new(0),
            covered: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
    }

    fn at(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX) + 1
    }

    /// The replica's lag bound now; `None` when down or not measured yet.
    pub fn lag(&self) -> Option<Duration> {
        match AtomicU64::load(&self.caught_up, Ordering::Acquire) {
            0 => None,
            t => Some(Duration::from_nanos(self.now().saturating_sub(t))),
        }
    }

    /// Whether public reads may go to the replica now: measured, and within the lag allowed.
    pub fn usable(&self) -> bool {
        self.lag().is_some_and(|lag| lag <= self.max_lag)
    }

    /// Whether a read across conferences (not ordered by a conference's revision) may go to
    /// the replica: [`Self::usable`], and the replica has replayed all that the primary held
    /// when this instance last answered such a read from it, so that the instance never
    /// answers older data after newer.
    pub fn usable_across_conferences(&self) -> bool {
        self.usable()
            && AtomicU64::load(&self.primary_read, Ordering::Acquire)
                <= AtomicU64::load(&self.covered, Ordering::Acquire)
            && AtomicI64::load(&self.replayed, Ordering::Acquire)
                >= AtomicI64::load(&self.required, Ordering::Acquire)
    }

    /// Records that a read across conferences was just answered by the primary.
    pub fn primary_read_done(&self) {
        self.primary_read.fetch_max(self.now(), Ordering::AcqRel);
    }

    /// Records a primary sample `lsn` whose query started at `started` (nanoseconds, +1): it
    /// covers every primary read that ended before.
    fn primary_sampled(&self, started: u64, lsn: i64) {
        if AtomicU64::load(&self.primary_read, Ordering::Acquire) != 0 {
            self.required.fetch_max(lsn, Ordering::AcqRel);
        }
        self.covered.fetch_max(started, Ordering::AcqRel);
    }

    /// Marks the replica down (a read on it failed); the monitor brings it back.
    pub fn down(&self) {
        self.caught_up.store(0, Ordering::Release);
    }

    fn caught_up_at(&self, t: Instant) {
        self.caught_up.fetch_max(self.at(t), Ordering::AcqRel);
    }
}

#[derive(diesel::QueryableByName)]
struct Lsn {
    #[diesel(sql_type = Nullable<BigInt>)]
    lsn: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Replay {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    lsn: Option<i64>,
}

/// Starts the monitor of the replica at `replica_url` against the primary at `primary_url`,
/// on a thread of its own ([`super::in_background`]), until the instance (`status`) is gone.
pub fn spawn_monitor(primary_url: String, replica_url: String, status: &Arc<ReplicaStatus>) {
    let instance = Arc::downgrade(status);
    super::in_background("plenary-replica", async move {
        let mut primary: Option<AsyncPgConnection> = None;
        let mut replica: Option<AsyncPgConnection> = None;
        let mut samples: VecDeque<(Instant, i64)> = VecDeque::new();
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(status) = instance.upgrade() else {
                return;
            };
            let now = Instant::now();
            let started = status.now();
            match sample(&mut primary, &primary_url, PRIMARY_LSN).await {
                Some(Lsn { lsn: Some(lsn) }) => {
                    samples.push_back((now, lsn));
                    status.primary_sampled(started, lsn);
                }
                _ => primary = None,
            }
            // Samples older than the lag allowed (plus a margin) can only say "too late".
            let horizon = status.max_lag + Duration::from_secs(1);
            while samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > horizon)
            {
                samples.pop_front();
            }
            match sample::<Replay>(&mut replica, &replica_url, REPLICA_LSN).await {
                Some(Replay {
                    in_recovery: false, ..
                }) => {
                    status.replayed.store(i64::MAX, Ordering::Release);
                    status.caught_up_at(Instant::now());
                }
                Some(Replay {
                    lsn: Some(replayed),
                    ..
                }) => {
                    status.replayed.store(replayed, Ordering::Release);
                    if let Some((t, _)) = samples.iter().rev().find(|(_, lsn)| *lsn <= replayed) {
                        status.caught_up_at(*t);
                    }
                }
                Some(_) => {}
                None => {
                    replica = None;
                    status.down();
                }
            }
        }
    });
}

const PRIMARY_LSN: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn";
const REPLICA_LSN: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
                           (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn";

/// Runs `sql` on `conn` (connecting first when there is none) within [`QUERY_TIMEOUT`];
/// `None` on any failure.
async fn sample<T>(conn: &mut Option<AsyncPgConnection>, url: &str, sql: &str) -> Option<T>
where
    T: diesel::QueryableByName<diesel::pg::Pg> + Send + 'static,
{
    let work = async {
        if conn.is_none() {
            let mut c = AsyncPgConnection::establish(url).await.ok()?;
            diesel::sql_query("SET application_name = 'plenary-replica-monitor'")
                .execute(&mut c)
                .await
                .ok()?;
            *conn = Some(c);
        }
        let c = conn.as_mut()?;
        diesel::sql_query(sql).get_result::<T>(c).await.ok()
    };
    tokio::time::timeout(QUERY_TIMEOUT, work)
        .await
        .ok()
        .flatten()
}

tokio::task_local! {
    static ON_REPLICA: bool;
}

/// Runs `f` (a public read's handler) with its connections taken from the replica when
/// `on_replica` ([`crate::state::AppState::conn`] reads it with [`reading_replica`]).
pub async fn reading<F: std::future::Future>(on_replica: bool, f: F) -> F::Output {
    ON_REPLICA.scope(on_replica, f).await
}

/// Whether the current request reads from the replica (see [`reading`]).
pub fn reading_replica() -> bool {
    ON_REPLICA.try_with(|r| *r).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_is_usable_only_when_measured_and_within_its_lag() {
        let status = ReplicaStatus::new(Duration::from_millis(1000));
        assert!(!status.usable(), "not measured yet");
        status.caught_up_at(Instant::now());
        assert!(status.usable());
        assert!(status
            .lag()
            .is_some_and(|l| l < Duration::from_millis(1000)));
        status.down();
        assert!(!status.usable());
        assert_eq!(status.lag(), None);
        // Caught up with a primary sample taken 2 s ago: lagging past the limit.
        let old = ReplicaStatus::new(Duration::from_millis(1000));
        std::thread::sleep(Duration::from_millis(30));
        old.caught_up_at(old.start);
        assert!(old.lag().is_some_and(|l| l >= Duration::from_millis(30)));
        let strict = ReplicaStatus::new(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(30));
        strict.caught_up_at(strict.start);
        assert!(!strict.usable(), "30 ms behind a 10 ms limit");
    }

    #[test]
    fn after_the_primary_a_read_across_conferences_waits_for_the_replica_to_catch_up() {
        let status = ReplicaStatus::new(Duration::from_millis(1000));
        status.caught_up_at(Instant::now());
        status.replayed.store(100, Ordering::Release);
        assert!(status.usable_across_conferences(), "no primary read yet");
        status.primary_read_done();
        assert!(
            !status.usable_across_conferences(),
            "no primary sample since that read"
        );
        // The primary, sampled after the read, was at 150: the replica (100) is behind.
        status.primary_sampled(status.now(), 150);
        assert!(!status.usable_across_conferences());
        status.replayed.store(150, Ordering::Release);
        assert!(status.usable_across_conferences());
        // Reads of a conference are ordered by its revision instead.
        status.primary_read_done();
        assert!(status.usable());
    }
}
