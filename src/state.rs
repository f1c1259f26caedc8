//! The state every request handler and middleware reads: [`AppState`], one per HTTP worker.

use std::sync::Arc;

use crate::auth::token::TokenKeys;
use crate::config::TrustedProxies;
use crate::db::{DbConn, DbPool};
use crate::domain::country::CountryIndex;
use crate::error::ApiError;
use crate::http::public_reads::PublicReads;
use crate::store::login_limits::LoginLimits;

/// The state of one HTTP worker: every request that worker serves sees it.
///
/// Each worker has its own database pool (see [`crate::startup::Application::build`]); the
/// other fields are shared by all workers.
#[derive(Clone)]
pub struct AppState {
    /// This worker's database pool (bounded waits).
    pub pool: DbPool,
    /// Country input forms to alpha-2.
    pub countries: Arc<CountryIndex>,
    /// Token signing and verification.
    pub tokens: TokenKeys,
    /// Failed-login limits.
    pub login_limits: LoginLimits,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PLENARY_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Longest time to receive a request body (`PLENARY_BODY_TIMEOUT_SECS`), then 408.
    pub body_timeout: std::time::Duration,
    /// Days a focal-point invitation code stays valid (`PLENARY_INVITATION_TTL_DAYS`).
    pub invitation_ttl_days: i64,
    /// `PLENARY_INVITATION_CODES_IN_RESPONSE`: an invitation's 201 carries its code.
    pub invitation_codes_in_response: bool,
    /// `PLENARY_WEBHOOK_ALLOW_PRIVATE`: a webhook may point at loopback, private and
    /// link-local addresses (checked when it is registered, and again at each delivery).
    pub webhook_allow_private: bool,
    /// `PLENARY_PUBLIC_URL`: the server's address as its users reach it, if set (the portal's
    /// cookies are `Secure` when it is HTTPS, and its forms may come from its origin).
    pub public_url: Option<String>,
    /// This worker's pool on the read replica (`DATABASE_READ_URL`), if one is configured.
    pub read_pool: Option<DbPool>,
    /// The instance's cache, known revisions and replica status, shared by its workers.
    pub public: Arc<PublicReads>,
    /// Turns of this worker's public-read fills ([`crate::http::public_cache`]): one fewer
    /// than the pool's connections (at least one), so that a fill held up in the database
    /// (a lock on the revisions table) never takes the last connection from writes and logins.
    pub fills: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// A pooled connection: on the replica while a public read runs there
    /// ([`crate::db::replica::reading`]), else on the primary; a replica that cannot give one
    /// is marked down and the primary serves. Errors: 503 when none is available within the
    /// pool timeout.
    pub async fn conn(&self) -> Result<DbConn, ApiError> {
        if crate::db::replica::reading_replica() {
            if let Some(read_pool) = &self.read_pool {
                match read_pool.get().await {
                    Ok(conn) => return Ok(conn),
                    Err(e) => {
                        tracing::warn!(error = %e, "read replica unavailable; using the primary");
                        if let Some(status) = &self.public.replica {
                            status.down();
                        }
                    }
                }
            }
        }
        self.pool.get().await.map_err(ApiError::from)
    }
}
