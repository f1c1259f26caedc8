//! Failed-login counters per email and per client address, in fixed windows, kept in
//! PostgreSQL so that every Plenary instance shares them.

use diesel::sql_types::{BigInt, Integer, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Limits of failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Attempts allowed per email and window (`PLENARY_LOGIN_MAX_PER_EMAIL`, default 5).
    pub per_email: i32,
    /// Attempts allowed per client address and window (`PLENARY_LOGIN_MAX_PER_ADDRESS`,
    /// default 30).
    pub per_address: i32,
    /// Window length in seconds (`PLENARY_LOGIN_WINDOW_SECS`, default 900).
    pub window_secs: i64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_email: 5,
            per_address: 30,
            window_secs: 900,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: chrono::DateTime<chrono::Utc>,
}

/// Counts one failed attempt against `key` atomically and returns (failures in the window,
/// seconds until the window ends).
pub async fn count_attempt(
    conn: &mut AsyncPgConnection,
    key: &str,
    window_secs: i64,
) -> diesel::QueryResult<(i32, i64)> {
    let rows: Vec<Counted> = diesel::sql_query(
        "INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, now(), 1) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN 1 ELSE f.failures + 1 END, \
           window_start = CASE WHEN f.window_start < now() - make_interval(secs => $2) THEN now() ELSE f.window_start END \
         RETURNING failures, window_start",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(window_secs)
    .load(conn)
    .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok((0, 0));
    };
    let ends = row.window_start + chrono::Duration::seconds(window_secs);
    let left = (ends - chrono::Utc::now()).num_seconds().max(1);
    Ok((row.failures, left))
}

/// The failures of `key` in its current window and the seconds until that window ends
/// (`(0, 0)` when there are none).
pub async fn failures(
    conn: &mut AsyncPgConnection,
    key: &str,
    window_secs: i64,
) -> diesel::QueryResult<(i32, i64)> {
    let rows: Vec<Counted> = diesel::sql_query(
        "SELECT failures, window_start FROM login_failures \
         WHERE key = $1 AND window_start >= now() - make_interval(secs => $2)",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(window_secs)
    .load(conn)
    .await?;
    let Some(row) = rows.into_iter().next() else {
        return Ok((0, 0));
    };
    let ends = row.window_start + chrono::Duration::seconds(window_secs);
    Ok((
        row.failures,
        (ends - chrono::Utc::now()).num_seconds().max(1),
    ))
}

/// Forgets every attempt of `key` (a successful login resets its email's counter).
pub async fn reset(conn: &mut AsyncPgConnection, key: &str) -> diesel::QueryResult<()> {
    diesel::sql_query("DELETE FROM login_failures WHERE key = $1")
        .bind::<Text, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}
