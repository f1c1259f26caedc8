//! The sender: delivers what the outbox holds ([`crate::store::outbox`]), e-mails by SMTP or as
//! `.eml` files ([`mail`]) and webhook deliveries by HTTP ([`webhook`]), through one loop.
//!
//! Every instance runs one sender, on a thread and runtime of its own
//! ([`crate::db::in_background`]) with a connection of its own, so request load cannot starve
//! it and it cannot take a request's connection. It claims due messages in batches (leased,
//! `FOR UPDATE SKIP LOCKED`), delivers a batch concurrently, and records each outcome; between
//! batches it waits for this instance's next committed write that queued something, or for its
//! poll interval (other instances' writes, retries coming due). Once a minute it queues the
//! `nominations_closing` reminders that came due.

pub mod mail;
pub mod webhook;

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;

use crate::config::NotifySettings;
use crate::store::outbox::{self, Claimed, Outcome};

/// Messages claimed per batch.
const BATCH: i64 = 32;
/// Deliveries in flight at once within a batch.
const IN_FLIGHT: usize = 16;
/// Longest wait between two looks at the outbox.
const POLL: Duration = Duration::from_millis(500);
/// The share of the lease a batch may spend delivering: a delivery still under way then is
/// given up (a transient failure, tried again later), so that no other instance takes a
/// message while this one may still send it.
const LEASE_USE: f64 = 0.8;
/// The first pause before connecting again after the database failed; doubled per failed
/// attempt up to [`LAST_RETRY`] or a tenth of the lease, whichever is shorter, and back to
/// this once connected.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// The longest pause before connecting again. A tenth of the lease when that is shorter: the
/// outcomes a failure cut off must be recorded soon after the database is back, before the
/// leases of their messages run out and another instance sends them again.
const LAST_RETRY: Duration = Duration::from_secs(5);
/// How often the due reminders are queued.
const REMINDERS_EVERY: Duration = Duration::from_secs(60);

/// What the sender needs besides the database.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The settings of [`NotifySettings`].
    pub settings: NotifySettings,
    /// Where `.eml` files go when no SMTP relay is set (`mail/` in the data folder).
    pub mail_dir: PathBuf,
    /// The address clients reach this server at (for links and API calls in e-mails).
    pub public_url: String,
}

/// Starts this instance's sender on `url`'s database; it stops once `alive` is dropped (the
/// application it belongs to is gone). Errors at start (a bad `PLENARY_SMTP_URL`) are
/// returned; later ones are logged and retried.
pub fn spawn_sender(url: String, config: SenderConfig, alive: Weak<()>) -> anyhow::Result<()> {
    let mailer = Arc::new(mail::Mailer::new(&config)?);
    let hooks = Arc::new(webhook::Client::new(config.settings.webhook_allow_private)?);
    crate::db::in_background("plenary-sender", async move {
        let mut backoff = FIRST_RETRY;
        let longest = LAST_RETRY.min(config.settings.lease / 10).max(FIRST_RETRY);
        let mut unrecorded = Vec::new();
        while alive.upgrade().is_some() {
            match run(
                &url,
                &config,
                &mailer,
                &hooks,
                &alive,
                &mut unrecorded,
                &mut backoff,
            )
            .await
            {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "the sender lost its database; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(longest);
        }
    });
    Ok(())
}

/// One connection's life: claim, deliver, record, wait; until `alive` is gone (`Ok`) or the
/// database fails (an error).
///
/// A batch's deliveries end before its lease runs out ([`LEASE_USE`]), however slow the
/// relay or receiver. Each outcome is recorded as soon as its delivery ends, not after the
/// whole batch, so a sender killed mid-batch leaves only its messages in flight to be sent
/// again. When the
/// database fails after a message was delivered (or failed for good) but before that was
/// recorded, the outcome waits in `unrecorded` and is recorded first on the next connection:
/// otherwise the message's lease would run out and it would be sent a second time although
/// nothing crashed but the connection.
async fn run(
    url: &str,
    config: &SenderConfig,
    mailer: &Arc<mail::Mailer>,
    hooks: &Arc<webhook::Client>,
    alive: &Weak<()>,
    unrecorded: &mut Vec<(Claimed, Outcome)>,
    backoff: &mut Duration,
) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    // Connected: the next failure starts over with a short pause (a lease runs out while the
    // sender waits, and what it delivered but could not record would be sent again).
    *backoff = FIRST_RETRY;
    while let Some((message, outcome)) = unrecorded.last() {
        outbox::record(&mut conn, message, outcome, Duration::ZERO).await?;
        unrecorded.pop();
    }
    let mut reminders_at = Instant::now();
    loop {
        if alive.upgrade().is_none() {
            return Ok(());
        }
        if reminders_at <= Instant::now() {
            let n = outbox::queue_reminders(&mut conn, config.settings.reminder_hours).await?;
            if n > 0 {
                tracing::info!(queued = n, "nominations_closing reminders queued");
            }
            reminders_at = Instant::now() + REMINDERS_EVERY;
        }
        // Registered before the claim, so a write committed meanwhile still wakes the wait.
        let woken = outbox::queued().notified();
        // Taken before the claim, so it falls before the lease (which starts in the claim).
        let deadline = tokio::time::Instant::now() + config.settings.lease.mul_f64(LEASE_USE);
        let claimed = outbox::claim(&mut conn, BATCH, config.settings.lease).await?;
        if claimed.is_empty() {
            let _ = tokio::time::timeout(POLL, woken).await;
            continue;
        }
        let mut outcomes = futures_util::stream::iter(claimed)
            .map(|message| async move {
                let attempt = deliver(config, mailer, hooks, &message);
                let outcome = match tokio::time::timeout_at(deadline, attempt).await {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::Transient {
                        error: "not delivered before its lease ran out".into(),
                        status_code: None,
                    },
                };
                (message, outcome)
            })
            .buffer_unordered(IN_FLIGHT);
        let mut failure = None;
        while let Some((message, outcome)) = outcomes.next().await {
            log(&message, &outcome);
            if failure.is_none() {
                let retry = outbox::backoff(config.settings.retry_base, message.attempts);
                match outbox::record(&mut conn, &message, &outcome, retry).await {
                    Ok(()) => continue,
                    Err(e) => failure = Some(e),
                }
            }
            // A transient failure needs no record: its lease runs out and it is tried again.
            if !matches!(outcome, Outcome::Transient { .. }) {
                unrecorded.push((message, outcome));
            }
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
    }
}

async fn deliver(
    config: &SenderConfig,
    mailer: &mail::Mailer,
    hooks: &webhook::Client,
    message: &Claimed,
) -> Outcome {
    match message.channel.as_str() {
        "email" => mailer.send(config, message).await,
        "webhook" => hooks.deliver(message).await,
        other => Outcome::Permanent {
            error: format!("unknown channel {other}"),
            status_code: None,
        },
    }
}

fn log(message: &Claimed, outcome: &Outcome) {
    match outcome {
        Outcome::Delivered { .. } => tracing::debug!(
            id = %message.id, channel = message.channel, kind = message.kind, "delivered"
        ),
        Outcome::Transient { error, .. } => tracing::warn!(
            id = %message.id, channel = message.channel, kind = message.kind,
            attempts = message.attempts, error, "delivery failed; will retry"
        ),
        Outcome::Permanent { error, .. } => tracing::warn!(
            id = %message.id, channel = message.channel, kind = message.kind,
            attempts = message.attempts, error, "delivery failed for good"
        ),
    }
}
