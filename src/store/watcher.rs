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

/// One connection's life: asks every [`ASK_EVERY`] until a question fails or takes longer
/// than [`SURE_WINDOW`] (an error), or the instance is gone (`Ok`).
async fn watch(url: &str, instance: &std::sync::Weak<Freshness>) -> anyhow::Result<()> {
    let mut conn = tokio::time::timeout(SURE_WINDOW * 4, AsyncPgConnection::establish(url))
        .await
        .map_err(|_| anyhow::anyhow!("connecting took over {:?}", SURE_WINDOW * 4))??;
    diesel::sql_query("SET application_name = 'plenary-revisions'")
        .execute(&mut conn)
        .await?;
    let mut since = 0;
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
        let (xmin, changed) =
            tokio::time::timeout(SURE_WINDOW, revisions::changed_since(&mut conn, since))
                .await
                .map_err(|_| anyhow::anyhow!("a question took over {SURE_WINDOW:?}"))??;
        freshness.advance_all(&changed);
        freshness.confirm(asked);
        since = xmin;
        let (gap, took) = (started.duration_since(previous), started.elapsed());
        if gap + took > SURE_WINDOW {
            tracing::warn!(
                ?gap,
                ?took,
                "revisions were late; public reads waited or shared database reads meanwhile"
            );
        }
        previous = started;
    }
}
