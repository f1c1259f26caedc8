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
    /// `PLENARY_CORS_ORIGINS`: comma-separated exact origins (`https://portal.example.org`)
    /// whose pages may also write; default empty (pages of every origin may only read).
    pub cors_origins: CorsOrigins,
    /// `PLENARY_PORTAL_LANGUAGE`: the language of the focal points' portal, one of the
    /// strings files `templates/portal/<lang>.json` compiled in; default `en` (checked by
    /// `plenary serve` at start).
    pub portal_language: String,
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

/// The origins whose web pages may write (`PLENARY_CORS_ORIGINS`, API.md Conventions): each
/// an exact origin as a browser sends it in `Origin` (RFC 6454 §6.1), `scheme://host[:port]`
/// with scheme `http` or `https`, host and scheme in lower case, no default port, no path
/// (not even a trailing `/`), no `*`, no user name, query or fragment. Compared byte for byte
/// with the request's `Origin` ([`CorsOrigins::allows`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    /// Parses a comma-separated list of origins; blank items are skipped. Errors: a message
    /// naming `PLENARY_CORS_ORIGINS`, the first entry that is not an exact origin, why, and
    /// (where there is one) the origin it should be written as.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins: Vec<String> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let origin = exact_origin(item).map_err(|why| {
                format!("PLENARY_CORS_ORIGINS: {item:?} is not an exact origin ({why})")
            })?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// Whether a request's `Origin` header value is one of the listed origins (exact match).
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// Whether the list is empty (no origin may write).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `item` itself when it is an exact `http`/`https` origin written as browsers serialise it
/// (the URL's own origin serialisation, WHATWG URL); else why not, with the spelling to use
/// when only the spelling is wrong.
fn exact_origin(item: &str) -> Result<String, String> {
    if item.contains('*') {
        return Err("wildcards are not allowed: list each origin".into());
    }
    let url =
        url::Url::parse(item).map_err(|e| format!("{e}; write it as scheme://host[:port]"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an origin has no user name or password".into());
    }
    let origin = url.origin().ascii_serialization();
    if item == origin {
        return Ok(origin);
    }
    let after_scheme = item.split_once("://").map_or("", |(_, rest)| rest);
    if after_scheme.contains(['/', '?', '#']) {
        return Err(format!(
            "an origin has no path, query or fragment, not even a trailing \"/\": {origin:?}"
        ));
    }
    Err(format!("browsers send it as {origin:?}: list that"))
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

/// One numeric setting: its variable, its default (`None`: computed, e.g. the number of CPUs)
/// and the whole numbers it accepts, `min..=max`, in `unit`. [`NUMERIC_SETTINGS`] lists them
/// all; `serve` and every command refuse to start when one is outside its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericSetting {
    /// The environment variable, e.g. `PLENARY_INVITATION_TTL_DAYS`.
    pub name: &'static str,
    /// The value when the variable is unset or blank.
    pub default: Option<u64>,
    /// The smallest accepted value.
    pub min: u64,
    /// The largest accepted value.
    pub max: u64,
    /// What the number counts: `days`, `bytes`, `ms`...
    pub unit: &'static str,
}

impl NumericSetting {
    /// Parses `raw` (the variable's value; `None` or blank: the default). Errors: a message
    /// naming the variable, the value and the accepted range, for a value that is not a whole
    /// number in `min..=max` (negative numbers included).
    pub fn parse(&self, raw: Option<&str>) -> Result<Option<u64>, String> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(self.default);
        };
        match raw.parse::<u64>() {
            Ok(v) if (self.min..=self.max).contains(&v) => Ok(Some(v)),
            _ => Err(format!(
                "{} must be a whole number from {} to {} ({}), not {raw:?}",
                self.name, self.min, self.max, self.unit
            )),
        }
    }
}

const MIB: u64 = 1 << 20;

const fn setting(
    name: &'static str,
    default: Option<u64>,
    min: u64,
    max: u64,
    unit: &'static str,
) -> NumericSetting {
    NumericSetting {
        name,
        default,
        min,
        max,
        unit,
    }
}
const GIB: u64 = 1 << 30;

/// Every numeric setting with its default and range (README, "Configuration" and
/// "Notifications", states the same ranges; a test holds them together). The ranges keep
/// every derived duration and size far from overflow (`PLENARY_INVITATION_TTL_DAYS` at most
/// 90 as the contract says, so an expiry is always a valid timestamp).
pub const NUMERIC_SETTINGS: &[NumericSetting] = &[
    setting("PLENARY_DB_POOL_SIZE", Some(4), 1, 1_000, "connections"),
    setting("PLENARY_DB_TIMEOUT_MS", Some(2_000), 1, 600_000, "ms"),
    setting("PLENARY_WORKERS", None, 1, 1_024, "threads"),
    setting(
        "PLENARY_LOGIN_MAX_PER_EMAIL",
        Some(5),
        1,
        1_000_000,
        "failures",
    ),
    setting(
        "PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL",
        Some(50),
        1,
        1_000_000,
        "failures",
    ),
    setting(
        "PLENARY_LOGIN_MAX_PER_ADDRESS",
        Some(30),
        1,
        1_000_000,
        "failures",
    ),
    setting("PLENARY_LOGIN_WINDOW_SECS", Some(900), 1, 604_800, "s"),
    setting("PLENARY_BODY_TIMEOUT_SECS", Some(10), 1, 3_600, "s"),
    setting(
        "PLENARY_BODY_BUDGET_BYTES",
        Some(64 * MIB),
        5 * MIB,
        64 * GIB,
        "bytes",
    ),
    setting(
        "PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES",
        Some(8 * MIB),
        5 * MIB,
        64 * GIB,
        "bytes",
    ),
    setting("PLENARY_INVITATION_TTL_DAYS", Some(14), 1, 90, "days"),
    setting(
        "PLENARY_CACHE_BYTES",
        Some(DEFAULT_CACHE_BYTES),
        0,
        64 * GIB,
        "bytes",
    ),
    setting(
        "PLENARY_REPLICA_MAX_LAG_MS",
        Some(1_000),
        0,
        3_600_000,
        "ms",
    ),
    setting("PLENARY_REMINDER_HOURS", Some(72), 1, 8_760, "hours"),
    setting(
        "PLENARY_OUTBOX_RETRY_BASE_MS",
        Some(30_000),
        1,
        3_600_000,
        "ms",
    ),
    setting("PLENARY_OUTBOX_LEASE_SECS", Some(120), 1, 86_400, "s"),
];

/// The numeric setting `name` of [`NUMERIC_SETTINGS`], read from the environment and checked.
fn numeric_opt(name: &str) -> anyhow::Result<Option<u64>> {
    let setting = NUMERIC_SETTINGS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| anyhow::anyhow!("{name} is not a numeric setting"))?;
    setting
        .parse(std::env::var(name).ok().as_deref())
        .map_err(|e| anyhow::anyhow!(e))
}

/// [`numeric_opt`] of a setting with a default, converted to the type its user keeps.
fn numeric<T: TryFrom<u64>>(name: &str) -> anyhow::Result<T> {
    numeric_opt(name)?
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| anyhow::anyhow!("{name} has no default or does not fit this platform"))
}

impl Settings {
    /// Reads the environment. Errors: a setting with an unparsable value, a numeric setting
    /// outside its range ([`NUMERIC_SETTINGS`]), a per-address body budget above the total.
    pub fn from_env() -> anyhow::Result<Self> {
        Self {
            database_url: var("DATABASE_URL"),
            bind_addr: var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            jwt_secret: var("PLENARY_JWT_SECRET").map(SecretString::from),
            data_dir: var("PLENARY_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(plenary_embedded_pg::EmbeddedPostgres::default_data_dir),
            pool_size: numeric("PLENARY_DB_POOL_SIZE")?,
            db_timeout: Duration::from_millis(numeric("PLENARY_DB_TIMEOUT_MS")?),
            workers: numeric_opt("PLENARY_WORKERS")?
                .map(usize::try_from)
                .transpose()
                .map_err(|_| anyhow::anyhow!("PLENARY_WORKERS does not fit this platform"))?,
            demo_data: var("PLENARY_DATA_FILES")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("data")),
            login_limits: crate::store::login_limits::LoginLimits {
                per_email: numeric("PLENARY_LOGIN_MAX_PER_EMAIL")?,
                per_email_total: numeric("PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL")?,
                per_address: numeric("PLENARY_LOGIN_MAX_PER_ADDRESS")?,
                window_secs: numeric("PLENARY_LOGIN_WINDOW_SECS")?,
            },
            trusted_proxies: TrustedProxies::parse(
                &var("PLENARY_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!(e))?,
            cors_origins: CorsOrigins::parse(&var("PLENARY_CORS_ORIGINS").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!(e))?,
            portal_language: var("PLENARY_PORTAL_LANGUAGE").unwrap_or_else(|| "en".to_string()),
            body_timeout: Duration::from_secs(numeric("PLENARY_BODY_TIMEOUT_SECS")?),
            invitation_ttl_days: numeric("PLENARY_INVITATION_TTL_DAYS")?,
            public_reads: PublicReadSettings {
                cache_bytes: numeric("PLENARY_CACHE_BYTES")?,
                read_url: var("DATABASE_READ_URL"),
                replica_max_lag: Duration::from_millis(numeric("PLENARY_REPLICA_MAX_LAG_MS")?),
            },
            body_budget: BodyBudgetSettings {
                total_bytes: numeric("PLENARY_BODY_BUDGET_BYTES")?,
                per_address_bytes: numeric("PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES")?,
            },
            notify: NotifySettings::from_env()?,
        }
        .checked()
    }

    /// Checks what one range cannot: a client address may not reserve more than all bodies.
    fn checked(self) -> anyhow::Result<Self> {
        anyhow::ensure!(
            self.body_budget.per_address_bytes <= self.body_budget.total_bytes,
            "PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES ({}) must not exceed PLENARY_BODY_BUDGET_BYTES ({})",
            self.body_budget.per_address_bytes,
            self.body_budget.total_bytes
        );
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks [`NUMERIC_SETTINGS`]: each default is in range; the bounds are accepted; one
    /// past either bound, a negative number, a fraction and a word are refused with a message
    /// naming the variable and its range; the README states each range.
    #[test]
    fn numeric_settings_are_range_checked() {
        let readme = include_str!("../README.md");
        for s in NUMERIC_SETTINGS {
            assert!(s.min <= s.max, "{}", s.name);
            if let Some(d) = s.default {
                assert!((s.min..=s.max).contains(&d), "{} default {d}", s.name);
            }
            assert_eq!(s.parse(None), Ok(s.default), "{}", s.name);
            assert_eq!(s.parse(Some("  ")), Ok(s.default), "{}", s.name);
            assert_eq!(s.parse(Some(&s.min.to_string())), Ok(Some(s.min)));
            assert_eq!(s.parse(Some(&format!(" {} ", s.max))), Ok(Some(s.max)));
            let mut bad = vec![
                (s.max + 1).to_string(),
                "-1".into(),
                "1.5".into(),
                "ten".into(),
                "200000000000000000000000".into(),
            ];
            if s.min > 0 {
                bad.push((s.min - 1).to_string());
            }
            let range = format!("from {} to {} ({})", s.min, s.max, s.unit);
            for raw in bad {
                let e = s.parse(Some(&raw)).err().unwrap_or_default();
                assert!(e.starts_with(s.name) && e.contains(&range), "{raw}: {e}");
            }
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", s.name)))
                .unwrap_or_default();
            assert!(
                row.contains(&format!("range {}–{}", s.min, s.max)),
                "README row of {}: {row:?}",
                s.name
            );
        }
        let names: std::collections::HashSet<_> = NUMERIC_SETTINGS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), NUMERIC_SETTINGS.len(), "one row per setting");
    }

    /// The table's defaults are the ones the structs start from.
    #[test]
    fn numeric_defaults_match_the_structs() {
        let d = |name: &str| {
            NUMERIC_SETTINGS
                .iter()
                .find(|s| s.name == name)
                .and_then(|s| s.default)
        };
        let login = crate::store::login_limits::LoginLimits::default();
        assert_eq!(
            d("PLENARY_LOGIN_MAX_PER_EMAIL"),
            u64::try_from(login.per_email).ok()
        );
        assert_eq!(
            d("PLENARY_LOGIN_MAX_PER_EMAIL_TOTAL"),
            u64::try_from(login.per_email_total).ok()
        );
        assert_eq!(
            d("PLENARY_LOGIN_MAX_PER_ADDRESS"),
            u64::try_from(login.per_address).ok()
        );
        assert_eq!(
            d("PLENARY_LOGIN_WINDOW_SECS"),
            u64::try_from(login.window_secs).ok()
        );
        let notify = NotifySettings::default();
        assert_eq!(
            d("PLENARY_REMINDER_HOURS"),
            u64::try_from(notify.reminder_hours).ok()
        );
        assert_eq!(
            d("PLENARY_OUTBOX_RETRY_BASE_MS"),
            u64::try_from(notify.retry_base.as_millis()).ok()
        );
        assert_eq!(d("PLENARY_OUTBOX_LEASE_SECS"), Some(notify.lease.as_secs()));
        assert_eq!(d("PLENARY_CACHE_BYTES"), Some(DEFAULT_CACHE_BYTES));
        assert_eq!(
            d("PLENARY_BODY_BUDGET_BYTES"),
            u64::try_from(DEFAULT_BODY_BUDGET_BYTES).ok()
        );
        assert_eq!(
            d("PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES"),
            u64::try_from(DEFAULT_BODY_BUDGET_PER_ADDRESS_BYTES).ok()
        );
    }

    /// `PLENARY_CORS_ORIGINS`: exact origins are kept (once each), everything else stops
    /// the start with a message naming the variable and the entry; the README has its row.
    #[test]
    fn cors_origins_must_be_exact_origins() {
        let parsed = CorsOrigins::parse(
            " https://portal.example.org, http://127.0.0.1:8081 ,,http://[::1]:9000,\
             https://portal.example.org",
        );
        assert_eq!(
            parsed,
            Ok(CorsOrigins(vec![
                "https://portal.example.org".into(),
                "http://127.0.0.1:8081".into(),
                "http://[::1]:9000".into(),
            ]))
        );
        let origins = parsed.unwrap_or_default();
        assert!(origins.allows("https://portal.example.org"));
        assert!(origins.allows("http://127.0.0.1:8081"));
        assert!(!origins.allows("http://127.0.0.1:8082"));
        assert!(!origins.allows("https://portal.example.org/"));
        assert!(!origins.allows("http://portal.example.org"));
        assert!(!origins.allows("null"));
        assert!(CorsOrigins::parse("").is_ok_and(|o| o.is_empty()));
        assert!(CorsOrigins::parse(" , ").is_ok_and(|o| o.is_empty()));
        for (bad, why) in [
            ("https://portal.example.org/", "trailing"),
            ("https://portal.example.org/accreditation", "path"),
            ("https://portal.example.org?x=1", "query"),
            ("https://portal.example.org#top", "fragment"),
            ("*", "wildcard"),
            ("https://*.example.org", "wildcard"),
            ("portal.example.org", "scheme://host"),
            ("ftp://portal.example.org", "http or https"),
            ("https://user@portal.example.org", "user name"),
            (
                "https://Portal.Example.org",
                "\"https://portal.example.org\"",
            ),
            (
                "https://portal.example.org:443",
                "\"https://portal.example.org\"",
            ),
            ("http://portal.example.org:99999", "scheme://host"),
            ("null", "scheme://host"),
        ] {
            let e = CorsOrigins::parse(&format!("https://ok.example.org, {bad}"))
                .err()
                .unwrap_or_default();
            assert!(
                e.starts_with("PLENARY_CORS_ORIGINS: ") && e.contains(bad) && e.contains(why),
                "{bad}: {e}"
            );
        }
        let readme = include_str!("../README.md");
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with("| `PLENARY_CORS_ORIGINS` |")),
            "README, Configuration: a row for PLENARY_CORS_ORIGINS"
        );
    }

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
    /// Reads the environment. Errors: an unparsable value, a numeric setting outside its range
    /// ([`NUMERIC_SETTINGS`]), or an invitation URL without `{code}`.
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
            reminder_hours: numeric("PLENARY_REMINDER_HOURS")?,
            webhook_allow_private: parse_var("PLENARY_WEBHOOK_ALLOW_PRIVATE", false)?,
            invitation_codes_in_response: parse_var("PLENARY_INVITATION_CODES_IN_RESPONSE", false)?,
            retry_base: Duration::from_millis(numeric("PLENARY_OUTBOX_RETRY_BASE_MS")?),
            lease: Duration::from_secs(numeric("PLENARY_OUTBOX_LEASE_SECS")?),
        })
    }
}
