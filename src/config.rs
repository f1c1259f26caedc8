//! Settings from the environment. Every setting has a default except the JWT secret, which
//! `serve` requires (at least 32 bytes) unless it runs `--demo` on the embedded database.

use std::net::IpAddr;
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
    /// [`plenary_embedded_pg::EmbeddedPostgres::default_data_dir`]).
    pub data_dir: PathBuf,
    /// `PLENARY_DB_POOL_SIZE`, default 4 (benches/RESULTS.md, "Pool size").
    pub pool_size: usize,
    /// `PLENARY_DB_TIMEOUT_MS`: longest wait for a database connection, default 2000.
    pub db_timeout: Duration,
    /// `PLENARY_WORKERS`: HTTP worker threads, default the number of CPUs.
    pub workers: Option<usize>,
    /// `PLENARY_DATA_FILES`: folder of conference documents for `--demo`, default `data`.
    pub demo_data: PathBuf,
    /// `PLENARY_LOGIN_MAX_PER_EMAIL` (5, per email and client address),
    /// `PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL` (50, per email across addresses),
    /// `PLENARY_LOGIN_MAX_PER_ADDRESS` (30), `PLENARY_LOGIN_WINDOW_SECS` (900).
    pub login_limits: crate::store::login_limits::LoginLimits,
    /// `PLENARY_TRUSTED_PROXIES`: comma-separated IPs or CIDRs of reverse proxies whose
    /// `X-Forwarded-For` is believed; default empty (the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// `PLENARY_BODY_TIMEOUT_SECS`: longest time to receive a request body, default 10
    /// (then 408).
    pub body_timeout: Duration,
    /// `PLENARY_INVITATION_TTL_DAYS`: days a focal-point invitation code stays valid,
    /// default 14.
    pub invitation_ttl_days: i64,
    /// `PLENARY_CACHE_BYTES` (default 64 MiB, 0: off), `DATABASE_READ_URL` (a streaming
    /// replica, optional) and `PLENARY_REPLICA_MAX_LAG_MS` (default 1000).
    pub public_reads: PublicReadSettings,
}

/// Networks of trusted reverse proxies (`PLENARY_TRUSTED_PROXIES`): each an address and a
/// prefix length (a bare IP is a /32 or /128). IPv4-mapped IPv6 peers match IPv4 entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list of IPs and CIDRs (`10.0.0.1, 10.1.0.0/16, ::1`); blank
    /// items are skipped. Errors: a message naming the first item that is not an IP or CIDR.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let bad = || format!("PLENARY_TRUSTED_PROXIES: {item:?} is not an IP address or CIDR");
            let (ip, prefix) = match item.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (item, None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            };
            nets.push((ip, prefix));
        }
        Ok(Self(nets))
    }

    /// Whether `ip` lies in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|(net, prefix)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// Whether the list is empty (no proxy trusted).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
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
                .unwrap_or_else(plenary_embedded_pg::EmbeddedPostgres::default_data_dir),
            pool_size: parse_var("PLENARY_DB_POOL_SIZE", 4)?,
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
                per_email_total: parse_var("PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL", 50)?,
                per_address: parse_var("PLENARY_LOGIN_MAX_PER_ADDRESS", 30)?,
                window_secs: parse_var("PLENARY_LOGIN_WINDOW_SECS", 900)?,
            },
            trusted_proxies: TrustedProxies::parse(
                &var("PLENARY_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
            body_timeout: Duration::from_secs(parse_var("PLENARY_BODY_TIMEOUT_SECS", 10)?),
            invitation_ttl_days: parse_var("PLENARY_INVITATION_TTL_DAYS", 14)?,
            public_reads: PublicReadSettings {
                cache_bytes: parse_var("PLENARY_CACHE_BYTES", DEFAULT_CACHE_BYTES)?,
                read_url: var("DATABASE_READ_URL"),
                replica_max_lag: Duration::from_millis(parse_var(
                    "PLENARY_REPLICA_MAX_LAG_MS",
                    1000,
                )?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_match_ips_and_cidrs() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,::1,").map_err(|e| e.to_string());
        assert_eq!(t.as_ref().map(|t| t.0.len()), Ok(3));
        let t = t.unwrap_or_default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::V4(0.into()));
        assert!(t.contains(ip("10.200.3.4")));
        assert!(t.contains(ip("::ffff:10.1.1.1")));
        assert!(t.contains(ip("192.168.1.7")));
        assert!(!t.contains(ip("192.168.1.8")));
        assert!(t.contains(ip("::1")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("").is_ok_and(|t| t.is_empty()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("0.0.0.0/0").is_ok_and(|t| t.contains(ip("8.8.8.8"))));
    }
}

/// The default bound of the cache, in bytes (`PLENARY_CACHE_BYTES`).
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Settings of public reads.
#[derive(Debug, Clone)]
pub struct PublicReadSettings {
    /// `PLENARY_CACHE_BYTES`: the cache's bound in bytes; 0 turns it off.
    pub cache_bytes: u64,
    /// `DATABASE_READ_URL`: a streaming replica of the primary, for public reads.
    pub read_url: Option<String>,
    /// `PLENARY_REPLICA_MAX_LAG_MS`: the replica's lag beyond which reads leave it.
    pub replica_max_lag: Duration,
}

impl Default for PublicReadSettings {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            read_url: None,
            replica_max_lag: Duration::from_millis(1000),
        }
    }
}
