//! Failed-login counters in fixed windows, kept in PostgreSQL so that every Plenary instance
//! shares them, and the reservation that makes the limits hold under concurrency.
//!
//! A login is limited by several counters ([`Counter`]): per email and client address, per
//! email across addresses, per client address. Before any password work it [`reserve`]s a
//! check on each of them in one transaction, under the counters' row locks: a counter whose
//! failures have reached its limit refuses (429); a counter whose failures plus the checks
//! still in progress have reached its limit makes the login wait ([`Reservation::Busy`]) until
//! those checks are counted, so the limit is never exceeded by simultaneous attempts and a
//! burst of correct logins is slowed, never refused. [`finish`] then counts the verdict: a
//! failure raises every counter, a success resets the per-email-and-address one.

use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::pg::AsyncPgConnection;
use diesel_async::RunQueryDsl;

use super::in_transaction;
use uuid::Uuid;

/// Limits of failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed per email and client address and window
    /// (`PLENARY_LOGIN_MAX_PER_EMAIL`, default 5).
    pub per_email: i32,
    /// Failures allowed per email across all addresses and window
    /// (`PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL`, default 50).
    pub per_email_total: i32,
    /// Failures allowed per client address and window (`PLENARY_LOGIN_MAX_PER_ADDRESS`,
    /// default 30).
    pub per_address: i32,
    /// Window length in seconds (`PLENARY_LOGIN_WINDOW_SECS`, default 900).
    pub window_secs: i64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_email: 5,
            per_email_total: 50,
            per_address: 30,
            window_secs: 900,
        }
    }
}

/// One counter a login is limited by: its key in `login_failures` and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// The key (`pair:<email> <address>`, `email:<email>`, `address:<address>`).
    pub key: String,
    /// Failures allowed per window.
    pub limit: i32,
}

impl LoginLimits {
    /// The counters of a login for `email` (compared in lower case) from `address`: per email
    /// and address first (the one a success resets), then per email, then per address.
    pub fn counters(&self, email: &str, address: &str) -> Vec<Counter> {
        let email = email.to_lowercase();
        vec![
            Counter {
                key: format!("pair:{email} {address}"),
                limit: self.per_email,
            },
            Counter {
                key: format!("email:{email}"),
                limit: self.per_email_total,
            },
            Counter {
                key: format!("address:{address}"),
                limit: self.per_address,
            },
        ]
    }
}

/// What [`reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The password may be checked; pass the attempt id to [`finish`].
    Granted(Uuid),
    /// A counter is at its limit: refuse, retry after this many seconds (>= 1).
    Refused(i64),
    /// Checks in progress could take a counter to its limit: wait for them and try again.
    Busy,
}

/// Checks in progress older than this no longer count (their server died mid-check).
const STALE_CHECK_SECS: i64 = 60;

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: chrono::DateTime<chrono::Utc>,
}

#[derive(diesel::QueryableByName)]
struct Pending {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Reserves a password check on every counter at once, atomically (see the module docs).
/// The counters' rows are locked in key order, so concurrent reservations cannot deadlock.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    counters: &[Counter],
    window_secs: i64,
) -> diesel::QueryResult<Reservation> {
    let mut sorted: Vec<&Counter> = counters.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    in_transaction(conn, async |conn| {
        let mut current = Vec::with_capacity(sorted.len());
        for counter in &sorted {
            // Creates the counter or opens a new window, and locks its row until COMMIT.
            let rows: Vec<Counted> = diesel::sql_query(
                "INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, now(), 0) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN 0 ELSE f.failures END, \
                   window_start = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN now() ELSE f.window_start END \
                 RETURNING failures, window_start",
            )
            .bind::<Text, _>(&counter.key)
            .bind::<BigInt, _>(window_secs)
            .load(conn)
            .await?;
            let (failures, window_start) = rows
                .into_iter()
                .next()
                .map_or((0, chrono::Utc::now()), |r| (r.failures, r.window_start));
            current.push((*counter, failures, window_start));
        }
        let keys: Vec<&str> = sorted.iter().map(|c| c.key.as_str()).collect();
        let pending: Vec<Pending> = diesel::sql_query(
            "SELECT key, count(*) AS n FROM login_checks \
             WHERE key = ANY($1) AND started_at > now() - make_interval(secs => $2) GROUP BY key",
        )
        .bind::<Array<Text>, _>(&keys)
        .bind::<BigInt, _>(STALE_CHECK_SECS)
        .load(conn)
        .await?;
        let pending_of = |key: &str| {
            pending
                .iter()
                .find(|p| p.key == key)
                .map_or(0, |p| p.n)
        };
        let refused = current
            .iter()
            .filter(|(c, failures, _)| *failures >= c.limit)
            .map(|(_, _, start)| {
                let ends = *start + chrono::Duration::seconds(window_secs);
                (ends - chrono::Utc::now()).num_seconds().max(1)
            })
            .max();
        if let Some(wait) = refused {
            return Ok(Reservation::Refused(wait));
        }
        let busy = current
            .iter()
            .any(|(c, failures, _)| i64::from(*failures) + pending_of(&c.key) >= i64::from(c.limit));
        if busy {
            return Ok(Reservation::Busy);
        }
        let attempt = Uuid::now_v7();
        diesel::sql_query(
            "INSERT INTO login_checks (attempt, key) SELECT $1, unnest($2::text[])",
        )
        .bind::<SqlUuid, _>(attempt)
        .bind::<Array<Text>, _>(&keys)
        .execute(conn)
        .await?;
        Ok(Reservation::Granted(attempt))
    })
    .await
}

/// Counts the verdict of a reserved check and releases its reservation, in one transaction: a
/// failure raises every counter by one (in a new window if the old one ended); a success
/// resets the first counter (per email and address). The other counters are untouched by a
/// success, so a correct password does not erase a distributed attack's traces.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    attempt: Uuid,
    counters: &[Counter],
    failed: bool,
    window_secs: i64,
) -> diesel::QueryResult<()> {
    let mut sorted: Vec<&Counter> = counters.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    in_transaction(conn, async |conn| {
        diesel::sql_query("DELETE FROM login_checks WHERE attempt = $1")
            .bind::<SqlUuid, _>(attempt)
            .execute(conn)
            .await?;
        if failed {
            for counter in sorted {
                diesel::sql_query(
                    "INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, now(), 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                       failures = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END, \
                       window_start = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN now() ELSE f.window_start END",
                )
                .bind::<Text, _>(&counter.key)
                .bind::<BigInt, _>(window_secs)
                .execute(conn)
                .await?;
            }
        } else if let Some(first) = counters.first() {
            diesel::sql_query("UPDATE login_failures SET failures = 0 WHERE key = $1")
                .bind::<Text, _>(&first.key)
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}
