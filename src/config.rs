//! Settings from the environment. Every setting has a default except the JWT secret, which
//! `serve` requires (at least 32 bytes) unless it runs `--demo` on the embedded database.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Everything `plenary` reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: a `postgres://` URL. Unset: the embedded cluster.
    pub database_url: Option<String>,
    /// `BIND_ADDR`, default `127.0.0.1:8080`.
    pub bind_addr: String,
    /// `PLENARY_JWT_SECRET` (>= 32 bytes).
    pub jwt_secret: Option<SecretString>,
    /// `PLENARY_DATA_DIR`: the embedded cluster's folder (default: see
    /// [`crate::db::embedded::EmbeddedPostgres::default_data_dir`]).
    pub data_dir: PathBuf,
    /// `PLENARY_DB_POOL_SIZE`, default 16.
    pub pool_size: usize,
    /// `PLENARY_DB_TIMEOUT_MS`: longest wait for a database connection, default 2000.
    pub db_timeout: Duration,
    /// `PLENARY_WORKERS`: HTTP worker threads, default the number of CPUs.
    pub workers: Option<usize>,
    /// `PLENARY_DATA_FILES`: folder of conference documents for `--demo`, default `data`.
    pub demo_data: PathBuf,
    /// `PLENARY_LOGIN_MAX_PER_EMAIL` (5), `PLENARY_LOGIN_MAX_PER_ADDRESS` (30),
    /// `PLENARY_LOGIN_WINDOW_SECS` (900).
    pub login_limits: crate::store::login_limits::LoginLimits,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} has an invalid value: {raw:?}")),
    }
}

impl Settings {
    /// Reads the environment. Errors: a setting with an unparsable value.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            database_url: var("DATABASE_URL"),
            bind_addr: var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            jwt_secret: var("PLENARY_JWT_SECRET").map(SecretString::from),
            data_dir: var("PLENARY_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(crate::db::embedded::EmbeddedPostgres::default_data_dir),
            pool_size: parse_var("PLENARY_DB_POOL_SIZE", 16)?,
            db_timeout: Duration::from_millis(parse_var("PLENARY_DB_TIMEOUT_MS", 2000)?),
            workers: var("PLENARY_WORKERS")
                .map(|w| w.parse())
                .transpose()
                .map_err(|_| anyhow::anyhow!("PLENARY_WORKERS must be a number"))?,
            demo_data: var("PLENARY_DATA_FILES")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("data")),
            login_limits: crate::store::login_limits::LoginLimits {
                per_email: parse_var("PLENARY_LOGIN_MAX_PER_EMAIL", 5)?,
                per_address: parse_var("PLENARY_LOGIN_MAX_PER_ADDRESS", 30)?,
                window_secs: parse_var("PLENARY_LOGIN_WINDOW_SECS", 900)?,
            },
        })
    }
}
