//! The revision watcher: a connection of the instance's own to the primary (application name
//! `plenary-revisions`) that asks every 100 ms what changed ([`super::revisions::changed_since`])
//! and records the answers in the instance's registry ([`crate::freshness::Freshness`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::revisions;
use crate::freshness::{Freshness, ASK_EVERY, SURE_WINDOW};

/// Starts asking the primary at `url` what changed, for instance `freshness`, on a thread of
/// its own ([`crate::db::in_background`]: a busy server must not delay the questions, or it
/// would go unsure and uncached exactly under load); it reconnects forever (backing off up to
/// 2 s) and stops once the instance is gone.
pub fn spawn_watcher(url: String, freshness: &Arc<Freshness>) {
    let instance = Arc::downgrade(freshness);
    crate::db::in_background("plenary-revisions", async move {
        let mut backoff = Duration::from_millis(50);
        loop {
            let Some(freshness) = instance.upgrade() else {
                return;
            };
            freshness.unsure();
            drop(freshness);
            let connected = Instant::now();
            match watch(&url, &instance).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "revisions unknown; public reads wait for them or share one database read each")
                }
            }
            // A connection that lived (not one refused at once) starts the backing off anew:
            // otherwise every lost connection in the process's life made the next wait longer.
            if connected.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(50);
            }
            if let Some(freshness) = instance.upgrade() {
                freshness.unsure();
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    });
}

/// One connection's life: asks every [`ASK_EVERY`] until a question fails, or the instance is
/// gone (`Ok`). A question that is late (longer than [`ASK_EVERY`]: a lock on the revisions
/// table holds it, as it holds every write's bump) is waited for while a second connection
/// asks, every [`ASK_EVERY`], which transactions committed since the last answer
/// ([`revisions::committed_since`], which reads no table): while none did but this instance's
/// own writes (whose revisions it recorded when they committed: [`Freshness::only_own`]), the
/// last answer is still whole and the instance stays sure. Once another did, or the question has taken
/// longer than [`LATE_LIMIT`], the instance is unsure until the question answers (an error
/// past [`LATE_LIMIT`]: the connection is made anew).
async fn watch(url: &str, instance: &std::sync::Weak<Freshness>) -> anyhow::Result<()> {
    let mut conn = connect(url, "plenary-revisions").await?;
    let mut second: Option<AsyncPgConnection> = None;
    let mut since = 0;
    let mut base: Option<revisions::Snapshot> = None;
    let mut tick = tokio::time::interval(ASK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous = Instant::now();
    loop {
        tick.tick().await;
        let Some(freshness) = instance.upgrade() else {
            return Ok(());
        };
        let asked = freshness.nanos_now();
        let started = Instant::now();
        let question = tokio::time::timeout(LATE_LIMIT, revisions::changed_since(&mut conn, since));
        tokio::pin!(question);
        // While the question is late: whether anything committed since the last answer.
        let mut vouching = base.take();
        let answer = loop {
            tokio::select! {
                answer = &mut question => break answer,
                () = tokio::time::sleep(ASK_EVERY) => {
                    let Some(from) = vouching.take() else { continue };
                    let sent = freshness.nanos_now();
                    match vouch(url, &mut second, &from).await {
                        Some((now, committed)) if freshness.only_own(&committed) => {
                            freshness.confirm(sent);
                            vouching = Some(now);
                        }
                        _ => tracing::warn!(
                            "revisions late and another's transaction committed meanwhile; public reads wait for them or share one database read each"
                        ),
                    }
                }
            }
        };
        let (snapshot, changed) =
            answer.map_err(|_| anyhow::anyhow!("a question took over {LATE_LIMIT:?}"))??;
        freshness.advance_all(&changed);
        freshness.confirm(asked);
        freshness.forget_own_before(snapshot.xmin);
        since = snapshot.xmin;
        base = Some(snapshot);
        let (gap, took) = (started.duration_since(previous), started.elapsed());
        if gap + took > SURE_WINDOW {
            tracing::warn!(
                ?gap,
                ?took,
                "revisions were late; public reads were vouched for while nothing committed, else waited or shared database reads"
            );
        }
        previous = started;
    }
}

/// The longest a question may take before its connection is made anew (the instance is unsure
/// meanwhile unless nothing committed: [`watch`]).
const LATE_LIMIT: Duration = Duration::from_secs(10);

/// A connection to `url` named `name` (`application_name`), made within 4 [`SURE_WINDOW`]s.
async fn connect(url: &str, name: &str) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = tokio::time::timeout(SURE_WINDOW * 4, AsyncPgConnection::establish(url))
        .await
        .map_err(|_| anyhow::anyhow!("connecting took over {:?}", SURE_WINDOW * 4))??;
    diesel::sql_query(format!("SET application_name = '{name}'"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// [`revisions::committed_since`] `from` on the second connection (made when missing,
/// dropped after an error), within [`SURE_WINDOW`]: the snapshot now and the ids committed
/// since `from`; `None` when it could not say.
async fn vouch(
    url: &str,
    second: &mut Option<AsyncPgConnection>,
    from: &revisions::Snapshot,
) -> Option<(revisions::Snapshot, Vec<i64>)> {
    let asked = async {
        let conn = match second {
            Some(conn) => conn,
            None => second.insert(connect(url, "plenary-revisions-vouch").await?),
        };
        Ok::<_, anyhow::Error>(revisions::committed_since(conn, from).await?)
    };
    match tokio::time::timeout(SURE_WINDOW, asked).await {
        Ok(Ok(now)) => now,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not ask whether anything committed");
            *second = None;
            None
        }
        Err(_) => {
            *second = None;
            None
        }
    }
}
