//! Rate limiting of password checks (logins, and later invitation acceptances): the
//! reservation loop around
//! [`crate::store::login_limits::reserve`].

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::login_limits::{self, Counter, Reservation};

/// Pause between two reservation attempts while other checks are in progress.
const BUSY_PAUSE: Duration = Duration::from_millis(15);
/// Longest wait for other checks in progress before answering 429 (`Retry-After: 1`). A burst
/// of correct logins for one email waits here, five argon2 checks at a time: 64 of them took
/// 10.3 s on a loaded 2-core machine, so the bound leaves room for three times that.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Reserves a password check on `counters` (see [`login_limits`]), waiting while checks in
/// progress could reach a limit. Errors: 429 with `Retry-After` when a counter is at its
/// limit, or after waiting [`BUSY_WAIT`]; 503 without a database connection.
pub async fn reserve_check(state: &AppState, counters: &[Counter]) -> Result<Uuid, ApiError> {
    let started = Instant::now();
    loop {
        let reservation = {
            let mut conn = state.conn().await?;
            login_limits::reserve(&mut conn, counters, state.login_limits.window_secs).await?
        };
        match reservation {
            Reservation::Granted(attempt) => return Ok(attempt),
            Reservation::Refused(wait) => {
                return Err(ApiError::TooManyRequests(u64::try_from(wait).unwrap_or(1)))
            }
            Reservation::Busy if started.elapsed() >= BUSY_WAIT => {
                return Err(ApiError::TooManyRequests(1))
            }
            Reservation::Busy => tokio::time::sleep(BUSY_PAUSE).await,
        }
    }
}

/// Counts the verdict of the check `attempt` reserved by [`reserve_check`] (`failed`: the
/// password was wrong). Errors: 503 without a database connection, 500 on a database error.
pub async fn record_verdict(
    state: &AppState,
    attempt: Uuid,
    counters: &[Counter],
    failed: bool,
) -> Result<(), ApiError> {
    let mut conn = state.conn().await?;
    login_limits::finish(
        &mut conn,
        attempt,
        counters,
        failed,
        state.login_limits.window_secs,
    )
    .await?;
    Ok(())
}
