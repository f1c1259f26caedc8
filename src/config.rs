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
    /// `PLENARY_BODY_BUDGET_BYTES` (default 64 MiB) and
    /// `PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES` (default 8 MiB): what request bodies in flight
    /// may reserve, in total and per client address, before 503.
    pub body_budget: BodyBudgetSettings,
    /// E-mail and webhooks: `PLENARY_SMTP_URL`, `PLENARY_MAIL_FROM`,
    /// `PLENARY_INVITATION_URL`, `PLENARY_PUBLIC_URL`, `PLENARY_REMINDER_HOURS`,
    /// `PLENARY_WEBHOOK_ALLOW_PRIVATE`, `PLENARY_INVITATION_CODES_IN_RESPONSE`,
    /// `PLENARY_OUTBOX_RETRY_BASE_MS`, `PLENARY_OUTBOX_LEASE_SECS` ([`NotifySettings`]).
    pub notify: NotifySettings,
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
            body_budget: BodyBudgetSettings {
                total_bytes: parse_var("PLENARY_BODY_BUDGET_BYTES", DEFAULT_BODY_BUDGET_BYTES)?,
                per_address_bytes: parse_var(
                    "PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES",
                    DEFAULT_BODY_BUDGET_PER_ADDRESS_BYTES,
                )?,
            },
            notify: NotifySettings::from_env()?,
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

/// Default of `PLENARY_BODY_BUDGET_BYTES`: the bytes all bodies in flight may reserve together.
pub const DEFAULT_BODY_BUDGET_BYTES: usize = 64 << 20;
/// Default of `PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES`: the bytes the bodies in flight of one
/// client address may reserve together (a credentials upload of 5 MiB and a few 1 MiB writes).
pub const DEFAULT_BODY_BUDGET_PER_ADDRESS_BYTES: usize = 8 << 20;

/// Settings of the budget of request bodies in flight ([`crate::http::body_budget`]), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyBudgetSettings {
    /// All bodies in flight together (`PLENARY_BODY_BUDGET_BYTES`).
    pub total_bytes: usize,
    /// The bodies in flight of one client address (`PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES`).
    pub per_address_bytes: usize,
}

impl Default for BodyBudgetSettings {
    fn default() -> Self {
        Self {
            total_bytes: DEFAULT_BODY_BUDGET_BYTES,
            per_address_bytes: DEFAULT_BODY_BUDGET_PER_ADDRESS_BYTES,
        }
    }
}

/// Settings of notifications (API.md, "Notifications: e-mail and webhooks"), each with a
/// default.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// `PLENARY_SMTP_URL`: `smtp://host:port` (no TLS, a local relay),
    /// `smtps://user:password@host:465` (TLS), `smtp://user:password@host:587?tls=required`
    /// (STARTTLS). Unset: `.eml` files in `mail/` of the data folder.
    pub smtp_url: Option<SecretString>,
    /// `PLENARY_MAIL_FROM`, default `Plenary <plenary@localhost>`.
    pub mail_from: String,
    /// `PLENARY_INVITATION_URL`: a link template with `{code}` for the page where focal
    /// points accept invitations; unset: no link (the e-mail gives the API call) until the
    /// portal's own page exists.
    pub invitation_url: Option<String>,
    /// `PLENARY_PUBLIC_URL`: where clients reach this server (links and API calls in
    /// e-mails), default `http://` and `BIND_ADDR`.
    pub public_url: Option<String>,
    /// `PLENARY_REMINDER_HOURS`: hours before `nominations_close_at` that the reminder
    /// leaves, default 72.
    pub reminder_hours: i64,
    /// `PLENARY_WEBHOOK_ALLOW_PRIVATE=true`: webhooks may point at loopback, private and
    /// link-local addresses (tests, on-premise receivers); default false.
    pub webhook_allow_private: bool,
    /// `PLENARY_INVITATION_CODES_IN_RESPONSE=true`: an invitation's 201 carries its code (a
    /// secretariat that delivers codes itself); accounts made from such codes are unverified.
    pub invitation_codes_in_response: bool,
    /// `PLENARY_OUTBOX_RETRY_BASE_MS`: the first pause after a transient failure, doubled per
    /// attempt up to an hour, default 30 000.
    pub retry_base: Duration,
    /// `PLENARY_OUTBOX_LEASE_SECS`: how long a sender holds a claimed message before another
    /// instance may take it (only after a crash), default 120.
    pub lease: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: "Plenary <plenary@localhost>".into(),
            invitation_url: None,
            public_url: None,
            reminder_hours: 72,
            webhook_allow_private: false,
            invitation_codes_in_response: false,
            retry_base: Duration::from_secs(30),
            lease: Duration::from_secs(120),
        }
    }
}

impl NotifySettings {
    /// Reads the environment. Errors: an unparsable value, or an invitation URL without
    /// `{code}`.
    pub fn from_env() -> anyhow::Result<Self> {
        let d = NotifySettings::default();
        let invitation_url = var("PLENARY_INVITATION_URL");
        if let Some(url) = &invitation_url {
            anyhow::ensure!(
                url.contains("{code}"),
                "PLENARY_INVITATION_URL must contain {{code}}: {url:?}"
            );
        }
        Ok(Self {
            smtp_url: var("PLENARY_SMTP_URL").map(SecretString::from),
            mail_from: var("PLENARY_MAIL_FROM").unwrap_or(d.mail_from),
            invitation_url,
            public_url: var("PLENARY_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            reminder_hours: parse_var("PLENARY_REMINDER_HOURS", d.reminder_hours)?,
            webhook_allow_private: parse_var("PLENARY_WEBHOOK_ALLOW_PRIVATE", false)?,
            invitation_codes_in_response: parse_var("PLENARY_INVITATION_CODES_IN_RESPONSE", false)?,
            retry_base: Duration::from_millis(parse_var("PLENARY_OUTBOX_RETRY_BASE_MS", 30_000)?),
            lease: Duration::from_secs(parse_var("PLENARY_OUTBOX_LEASE_SECS", 120)?),
        })
    }
}
