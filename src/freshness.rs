//! What this instance knows of every conference's committed revision, and whether it can be
//! sure of it: the ground on which the cache of public reads ([`crate::http::public_cache`])
//! and the read replica's use ([`crate::db::replica`]) stand.
//!
//! The revisions come from the primary: the watcher ([`crate::store::watcher`], a connection
//! of the instance's own, application name `plenary-revisions`) asks every 100 ms what
//! changed since its previous question (by transaction id, so that no committed write is
//! missed whatever order writes commit in), and the instance keeps the highest revision it
//! has seen of each conference ([`Freshness::known`]). This module is the registry only: it
//! reads no database, so the store's write driver can report to it ([`committed`]). Writes made by this instance are known
//! at once, before their response leaves ([`committed`]).
//!
//! **Being sure.** A question answered says: every write committed before it was asked has
//! been seen. The instance is *sure* while its newest answered question was asked less than
//! [`SURE_WINDOW`] ago ([`Freshness::is_sure`]). A read from the primary is as sure as a
//! question: it saw every write committed before it began, so the entry it fills can be
//! vouched for during [`SURE_WINDOW`] after it began whatever the watcher says
//! ([`Freshness::vouches_for`]). A question held up (a lock on the revisions table, which a
//! migration or `VACUUM FULL` takes, and which holds every write's bump as well) is answered
//! for in the meantime by a second connection that reads no table: when no transaction has
//! committed since the last answer's snapshot (`pg_current_snapshot`, `pg_xact_status`) other
//! than this instance's own writes (whose revisions it recorded: [`committed`]), that answer
//! is still whole, and confirms as a question would
//! ([`crate::store::revisions::committed_since`]). While the instance is not sure (at start, when the
//! connection is lost or a question takes too long, until it has reconnected and been
//! answered again), a public read waits a moment for the next answer
//! ([`Freshness::wait_until_sure`]) and otherwise shares one database read per response with
//! every other request for it ([`crate::http::public_cache`]); the replica is then checked by
//! its measured lag alone. (LISTEN/NOTIFY was the first design: a notifying transaction holds a database-wide
//! lock through its commit, which halved write throughput, and a lost notification leaves no
//! trace; questions by transaction id have neither problem.)

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long ago the newest answered question may have been asked for the instance to be sure
/// of its revisions. A write acknowledged by any
/// instance is therefore seen here within this time, inside the contract's 1 s. (500 ms
/// went unsure too often under full load on 2 cores: a question answered 400 ms late.)
pub const SURE_WINDOW: Duration = Duration::from_millis(800);
/// How often the instance asks what changed.
pub const ASK_EVERY: Duration = Duration::from_millis(100);

/// The revisions an instance knows, and whether it can be sure of them. Shared by every HTTP
/// worker of the instance.
#[derive(Debug)]
pub struct Freshness {
    known: RwLock<HashMap<Uuid, i64>>,
    /// Nanoseconds since `start` (+1) at which the newest answered question was asked; 0:
    /// none since the connection was (re)made.
    confirmed: AtomicU64,
    start: Instant,
    /// Woken at every answered question ([`Self::wait_until_sure`]).
    answered: tokio::sync::Notify,
    /// Times the instance became sure after a time of not being sure (the first answer after
    /// start included; then each lost connection or late question): what `benches/run.sh`
    /// reports as "unsure".
    lapses: AtomicU64,
    /// Transaction ids of this instance's own writes whose revisions it has recorded
    /// ([`committed`]), newer than the watcher's last answer ([`Self::forget_own_before`]); at
    /// most [`MOST_OWN`] (the oldest go first: one forgotten only makes vouching stricter).
    own: Mutex<BTreeSet<i64>>,
}

/// The most own transaction ids [`Freshness`] keeps.
const MOST_OWN: usize = 100_000;

impl Default for Freshness {
    fn default() -> Self {
        Self {
            known: RwLock::new(HashMap::new()),
            confirmed: AtomicU64::new(0),
            start: Instant::now(),
            answered: tokio::sync::Notify::new(),
            lapses: AtomicU64::new(0),
            own: Mutex::new(BTreeSet::new()),
        }
    }
}

impl Freshness {
    /// The highest committed revision of conference `id` this instance has seen (0: none).
    pub fn known(&self, id: Uuid) -> i64 {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        known.get(&id).copied().unwrap_or(0)
    }

    /// Records that conference `id` has reached at least `revision` (committed).
    pub fn advance(&self, id: Uuid, revision: i64) {
        self.advance_all(&[(id, revision)]);
    }

    /// [`Self::advance`] for many at once.
    pub fn advance_all(&self, revisions: &[(Uuid, i64)]) {
        if revisions.is_empty() {
            return;
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        for &(id, revision) in revisions {
            let slot = known.entry(id).or_insert(0);
            *slot = (*slot).max(revision);
        }
    }

    /// Whether every write committed more than [`SURE_WINDOW`] ago has been seen.
    pub fn is_sure(&self) -> bool {
        let confirmed = AtomicU64::load(&self.confirmed, Ordering::Acquire);
        confirmed != 0 && self.nanos_now().saturating_sub(confirmed) <= nanos(SURE_WINDOW)
    }

    /// Whether an entry read from the primary at `read_at` (`None`: not from the primary) may
    /// be served as current: the instance is sure, or the read began less than
    /// [`SURE_WINDOW`] ago (it saw every write committed before it began).
    pub fn vouches_for(&self, read_at: Option<Instant>) -> bool {
        self.is_sure() || read_at.is_some_and(|at| at.elapsed() <= SURE_WINDOW)
    }

    /// Waits until the instance is sure again, at most `limit`; returns whether it is. Woken by
    /// every answered question, so a request waits no longer than the watcher needs.
    pub async fn wait_until_sure(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            if self.is_sure() {
                return true;
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return self.is_sure();
            }
        }
    }

    /// How many times the instance has become sure after not being sure since it started
    /// (1 when it never lapsed).
    pub fn lapses(&self) -> u64 {
        AtomicU64::load(&self.lapses, Ordering::Relaxed)
    }

    /// Nanoseconds since this registry was made, plus one: the clock of [`Self::confirm`].
    pub fn nanos_now(&self) -> u64 {
        // +1: a question asked in the very first nanosecond is not "none".
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
    }

    /// Records that a question asked at `sent` ([`Self::nanos_now`]) was answered: every
    /// write committed before then has been seen. Wakes [`Self::wait_until_sure`].
    pub fn confirm(&self, sent: u64) {
        let before = self.confirmed.fetch_max(sent, Ordering::AcqRel);
        if before == 0 || self.nanos_now().saturating_sub(before) > nanos(SURE_WINDOW) {
            self.lapses.fetch_add(1, Ordering::Relaxed);
        }
        self.answered.notify_waiters();
    }

    /// Records that this instance's write in transaction `xid` committed and its bumped
    /// revisions are recorded (call after [`Self::advance_all`]).
    pub fn own_committed(&self, xid: i64) {
        let mut own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        own.insert(xid);
        while own.len() > MOST_OWN {
            own.pop_first();
        }
    }

    /// Whether every transaction id in `committed` is one of this instance's own writes
    /// ([`Self::own_committed`]): their revisions are already known here, so commits of
    /// theirs do not stop the watcher's vouching ([`crate::store::revisions::committed_since`]).
    pub fn only_own(&self, committed: &[i64]) -> bool {
        let own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        committed.iter().all(|x| own.contains(x))
    }

    /// Forgets own transaction ids below `xmin` (an answered question's snapshot: every
    /// transaction below it had ended and its revisions were read).
    pub fn forget_own_before(&self, xmin: i64) {
        let mut own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        *own = own.split_off(&xmin);
    }

    /// Forgets every answer: not sure until the next one (a lost connection).
    pub fn unsure(&self) {
        self.confirmed.store(0, Ordering::Release);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

tokio::task_local! {
    static CURRENT: Arc<Freshness>;
}

/// Runs `f` (a request) with `freshness` as the instance whose writes [`committed`] reports to.
pub async fn scope<F: std::future::Future>(freshness: Arc<Freshness>, f: F) -> F::Output {
    CURRENT.scope(freshness, f).await
}

/// Called by the audited-write path after COMMIT with the revisions it bumped, and the
/// transaction's id when it was the outermost transaction: this instance knows them before the
/// write is answered (its own reads never lag its own writes), and its watcher knows the
/// commit for its own ([`Freshness::own_committed`]). Outside a request (the importer, the
/// command line) it does nothing: the instances' next questions find them.
pub fn committed(bumped: &[(Uuid, i64)], xid: Option<i64>) {
    let _ = CURRENT.try_with(|f| {
        f.advance_all(bumped);
        if let Some(xid) = xid {
            f.own_committed(xid);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_revisions_only_grow() {
        let f = Freshness::default();
        let id = Uuid::now_v7();
        assert_eq!(f.known(id), 0);
        f.advance(id, 5);
        f.advance(id, 3);
        assert_eq!(f.known(id), 5);
        f.advance_all(&[(id, 9), (Uuid::now_v7(), 1)]);
        assert_eq!(f.known(id), 9);
    }

    #[test]
    fn only_own_commits_are_known_and_old_ones_are_forgotten() {
        let f = Freshness::default();
        assert!(f.only_own(&[]), "no commit at all");
        f.own_committed(10);
        f.own_committed(12);
        assert!(f.only_own(&[10, 12]));
        assert!(!f.only_own(&[10, 11]), "11 is another's");
        f.forget_own_before(11);
        assert!(!f.only_own(&[10]), "10 is forgotten");
        assert!(f.only_own(&[12]));
        for xid in 0..(MOST_OWN as i64 + 5) {
            f.own_committed(100 + xid);
        }
        assert!(!f.only_own(&[12]), "the oldest go first");
        assert!(f.only_own(&[100 + MOST_OWN as i64 + 4]));
    }

    #[test]
    fn sure_only_after_a_recent_answer() {
        let f = Freshness::default();
        assert!(!f.is_sure(), "no answer yet");
        f.confirm(f.nanos_now());
        assert!(f.is_sure());
        f.unsure();
        assert!(!f.is_sure());
        // An answer to a question asked longer ago than the window does not make it sure.
        std::thread::sleep(SURE_WINDOW + Duration::from_millis(20));
        f.confirm(1);
        assert!(!f.is_sure());
    }
}
