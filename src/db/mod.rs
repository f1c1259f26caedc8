//! Database access: the connection pool and migrations.
//!
//! Every query lives in [`crate::store`]; this module only provides connections. The embedded
//! cluster (used when `DATABASE_URL` is unset) is its own crate, `plenary-embedded-pg`.

pub mod replica;
pub mod schema;

use std::time::Duration;

use anyhow::Context;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Advisory lock key that serialises migrations of several processes on one database.
const MIGRATION_LOCK: i64 = 0x0070_6c65_6e61_7279;

/// A pool of async PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;
/// One pooled connection.
pub type DbConn = Object<AsyncPgConnection>;

/// Pool settings: size and how long a request may wait (bounded, so a database outage is a
/// quick 503 rather than a long hang).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Maximum number of connections.
    pub max_size: usize,
    /// Longest wait for a free connection or a new one.
    pub timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 4,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Builds the pool for `url` (a `postgres://` URL or a libpq `key=value` string). Connections
/// are made lazily.
///
/// A connection handed back to the pool is reused without a test query (`Fast` recycling):
/// the default (`Verified`) sent `SELECT 1` before every checkout, one more round trip for
/// each request (benches/RESULTS.md). A connection that broke (database restarted) is
/// dropped by the pool once a query on it fails.
///
/// Each connection runs its prepared statements with generic plans
/// (`plan_cache_mode = force_generic_plan`): Plenary's statements are key lookups and keyset
/// pages whose best plan does not depend on the values bound, but with a bound `LIMIT`
/// PostgreSQL's default kept re-planning the paged lists on every execution, a third of
/// their database time (benches/RESULTS.md, scenarios B and C).
pub fn build_pool(url: &str, settings: &PoolSettings) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            diesel::sql_query("SET plan_cache_mode = force_generic_plan")
                .execute(&mut conn)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.timeout))
        .create_timeout(Some(settings.timeout))
        .recycle_timeout(Some(settings.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Runs `task` on a thread of its own (named `name`) with a single-threaded tokio runtime, to
/// its end: background pollers of the database ([`crate::freshness`], [`replica`]) that must
/// keep their pace whatever the HTTP workers and the main thread are doing. (On the main
/// thread's runtime, a question of 1 ms took 400 ms at times under full load, benches.)
pub fn in_background(name: &str, task: impl std::future::Future<Output = ()> + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(task),
                Err(e) => tracing::error!(error = %e, "no runtime for a background task"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, name, "could not start a background thread");
    }
}

/// Applies pending migrations, holding an advisory lock so that several processes starting
/// together migrate once. The reference data that the schema holds is the store's
/// ([`crate::store::reference::migrate`] runs this, then brings it up to date).
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let url_owned = url.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(
                &url_owned,
            )
            .context("connecting to the database to migrate")?;
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")),
            &mut conn,
        )
        .context("taking the migration lock")?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("applying migrations: {e}"));
        let _ = diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")),
            &mut conn,
        );
        result
    })
    .await
    .context("migration task")??;
    Ok(())
}

/// Reverts every migration (used by the test that checks each `down.sql`).
pub async fn revert_all(url: &str) -> anyhow::Result<()> {
    let url_owned = url.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(
                &url_owned,
            )?;
        conn.revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))?;
        Ok(())
    })
    .await??;
    Ok(())
}
