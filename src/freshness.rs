//! What this instance knows of every conference's committed revision, and whether it can be
//! sure of it: the ground on which the cache of public reads ([`crate::http::public_cache`])
//! and the read replica's use ([`crate::db::replica`]) stand.
//!
//! The revisions come from the primary: a listener connection runs `LISTEN plenary_revisions`
//! ([`crate::store::revisions::CHANNEL`]), then reads every conference's revision, then keeps
//! the highest it has seen of each ([`Freshness::known`]). Writes made by this instance are
//! known at once, before their response leaves ([`committed`]).
//!
//! **Being sure.** A notification can be lost without a sign: its connection drops, or hangs.
//! So the listener also sends itself a heartbeat every 100 ms on a second connection
//! (`NOTIFY plenary_hb_<instance>`, payload: when it was sent). PostgreSQL delivers a
//! session's notifications in commit order, so when a heartbeat sent at `t` comes back,
//! every write committed before `t` has been seen. The instance is *sure* while the newest
//! heartbeat that came back was sent less than [`SURE_WINDOW`] ago; while it is not
//! ([`Freshness::is_sure`] false: at start, after a reconnect until the first heartbeat, or
//! when heartbeats stall), public reads are served uncached and the replica is checked by its
//! measured lag alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::store::revisions;

/// How old the newest returned heartbeat may be for the instance to be sure of its revisions.
/// A write acknowledged by any instance is therefore seen here within this time plus the
/// heartbeat period, well inside the contract's 1 s.
pub const SURE_WINDOW: Duration = Duration::from_millis(500);
/// How often the listener sends itself a heartbeat.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(100);
/// How long without any returned heartbeat before the listener reconnects.
const RECONNECT_AFTER: Duration = Duration::from_secs(3);

/// The revisions an instance knows, and whether it can be sure of them. Shared by every HTTP
/// worker of the instance.
#[derive(Debug)]
pub struct Freshness {
    known: RwLock<HashMap<Uuid, i64>>,
    /// Nanoseconds since `start` at which the newest returned heartbeat was sent; 0: none
    /// since the listener (re)connected.
    confirmed: AtomicU64,
    start: Instant,
}

impl Default for Freshness {
    fn default() -> Self {
        Self {
            known: RwLock::new(HashMap::new()),
            confirmed: AtomicU64::new(0),
            start: Instant::now(),
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

    fn nanos_now(&self) -> u64 {
        // +1: a heartbeat sent in the very first nanosecond is not "none".
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
    }

    fn confirm(&self, sent: u64) {
        self.confirmed.fetch_max(sent, Ordering::AcqRel);
    }

    fn unsure(&self) {
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

/// Called by the audited-write path after COMMIT with the revisions it bumped: this instance
/// knows them before the write is answered (its own reads never lag its own writes). Outside a
/// request (the importer, the command line) it does nothing: the notification carries them.
pub fn committed(bumped: &[(Uuid, i64)]) {
    let _ = CURRENT.try_with(|f| f.advance_all(bumped));
}

/// Starts the listener of instance `freshness` on the primary at `url`, on the current tokio
/// runtime; it reconnects forever (backing off up to 2 s) until the runtime stops.
pub fn spawn_listener(url: String, freshness: Arc<Freshness>) {
    tokio::spawn(async move {
        let channel = format!("plenary_hb_{}", Uuid::now_v7().simple());
        let mut backoff = Duration::from_millis(50);
        loop {
            freshness.unsure();
            match listen(&url, &freshness, &channel).await {
                Ok(()) => backoff = Duration::from_millis(50),
                Err(e) => {
                    tracing::warn!(error = %e, "revision listener lost; public reads uncached until it is back");
                }
            }
            freshness.unsure();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });
}

/// One session of the listener: returns when its connection is lost or heartbeats stall.
async fn listen(url: &str, freshness: &Freshness, channel: &str) -> anyhow::Result<()> {
    let mut listener = AsyncPgConnection::establish(url).await?;
    diesel::sql_query("SET application_name = 'plenary-listener'")
        .execute(&mut listener)
        .await?;
    diesel::sql_query(format!("LISTEN {}", revisions::CHANNEL))
        .execute(&mut listener)
        .await?;
    diesel::sql_query(format!("LISTEN {channel}"))
        .execute(&mut listener)
        .await?;
    let mut sender = AsyncPgConnection::establish(url).await?;
    diesel::sql_query("SET application_name = 'plenary-heartbeat'")
        .execute(&mut sender)
        .await?;
    // After LISTEN: a write committed from now on is notified, one committed before is here.
    freshness.advance_all(&revisions::all(&mut sender).await?);
    tracing::info!("revision listener connected");

    let mut notifications = std::pin::pin!(listener.notifications_stream());
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_back = Instant::now();
    loop {
        tokio::select! {
            n = notifications.next() => {
                let n = match n {
                    None => anyhow::bail!("the listener's connection closed"),
                    Some(n) => n?,
                };
                if n.channel == revisions::CHANNEL {
                    if let Some((id, revision)) = revisions::parse_payload(&n.payload) {
                        freshness.advance(id, revision);
                    }
                } else if n.channel == channel {
                    if let Ok(sent) = n.payload.parse::<u64>() {
                        freshness.confirm(sent);
                        last_back = Instant::now();
                    }
                }
            }
            _ = tick.tick() => {
                if last_back.elapsed() > RECONNECT_AFTER {
                    anyhow::bail!("no heartbeat came back for {RECONNECT_AFTER:?}");
                }
                let sent = freshness.nanos_now();
                let notify = diesel::sql_query(format!("NOTIFY {channel}, '{sent}'"));
                tokio::time::timeout(SURE_WINDOW, notify.execute(&mut sender))
                    .await
                    .map_err(|_| anyhow::anyhow!("a heartbeat took over {SURE_WINDOW:?} to send"))??;
            }
        }
    }
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
    fn sure_only_after_a_recent_heartbeat() {
        let f = Freshness::default();
        assert!(!f.is_sure(), "no heartbeat yet");
        f.confirm(f.nanos_now());
        assert!(f.is_sure());
        f.unsure();
        assert!(!f.is_sure());
        // A heartbeat sent longer ago than the window does not make it sure.
        std::thread::sleep(SURE_WINDOW + Duration::from_millis(20));
        f.confirm(1);
        assert!(!f.is_sure());
    }
}
