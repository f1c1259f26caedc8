//! Webhook deliveries (API.md, "Webhooks"), signed as the Standard Webhooks specification says
//! (<https://www.standardwebhooks.com/>, "Signature scheme"): `webhook-id` (the outbox row's
//! id, the same on every attempt), `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with
//! the secret's base64-decoded bytes after `whsec_`).
//!
//! Where a delivery may go is checked at delivery time too, not only at registration: the
//! client resolves names itself ([`Guard`]) and refuses loopback, private, link-local,
//! multicast and unspecified addresses unless `PLENARY_WEBHOOK_ALLOW_PRIVATE=true`, so a name
//! that resolves elsewhere later cannot reach inside. Redirects are not followed; a 2xx within
//! 10 s is success; only the first 4 KiB of an answer are read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::Sha256;

use crate::store::outbox::{Claimed, Outcome};

/// Longest wait for a receiver's answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer's body that is read (for `last_error`).
const ANSWER_BYTES: usize = 4096;

/// True for an address a webhook may not reach unless private receivers are allowed: every
/// block of the IANA special-purpose address registries (RFC 6890) that is not globally
/// reachable. IPv4: this network (0/8), private (RFC 1918), shared (100.64/10), loopback,
/// link-local, IETF protocol assignments (192.0.0/24), documentation (192.0.2/24,
/// 198.51.100/24, 203.0.113/24), 6to4 relay anycast (192.88.99/24), benchmarking (198.18/15),
/// multicast, reserved (240/4) and broadcast. IPv6: unspecified, loopback, discard (100::/64),
/// Teredo (2001::/32), ORCHID and benchmarking (2001::/23), documentation (2001:db8::/32),
/// unique local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast, the
/// local-use NAT64 prefix (64:ff9b:1::/48); and IPv4 addresses written as IPv6 (mapped,
/// compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) when the IPv4 address is internal.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
                || (o[0] == 192 && o[1] == 88 && o[2] == 99)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                is_internal(IpAddr::V4(std::net::Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                )))
            };
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms.
            if s[..5] == [0; 5] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
                return embedded(s[6], s[7]);
            }
            // NAT64 (64:ff9b::a.b.c.d, RFC 6052) and 6to4 (2002:AABB:CCDD::/48, RFC 3056).
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return embedded(s[6], s[7]);
            }
            if s[0] == 0x2002 {
                return embedded(s[1], s[2]);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                || (s[..4] == [0x100, 0, 0, 0])
                || (s[0] == 0x2001 && s[1] < 0x200)
                || (s[0] == 0x2001 && s[1] == 0xdb8)
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
        }
    }
}

/// Longest wait for a webhook URL's host name to resolve when it is registered.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The registration-time check of where a webhook's deliveries would go (API.md, "A webhook
/// `url` must be..."): a host written as an IP address is refused when it is internal
/// ([`is_internal`]) unless `allow_private`; a name is resolved (within 5 s) and refused when
/// it does not resolve, or when any of its addresses is internal unless `allow_private`. The
/// same rule holds again at delivery time ([`Guard`]). Errors: why, for a 422 naming `url`.
pub async fn check_destination(url: &url::Url, allow_private: bool) -> Result<(), String> {
    let host = match url.host() {
        Some(url::Host::Ipv4(v4)) => return literal(IpAddr::V4(v4), allow_private),
        Some(url::Host::Ipv6(v6)) => return literal(IpAddr::V6(v6), allow_private),
        Some(url::Host::Domain(name)) => name.to_string(),
        None => return Err("must name a host".into()),
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(
        RESOLVE_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    );
    let addrs: Vec<SocketAddr> = match lookup.await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) => Vec::new(),
        Err(_) => return Err(format!("the host {host} did not resolve within 5 s")),
    };
    if addrs.is_empty() {
        return Err(format!("the host {host} does not resolve"));
    }
    match addrs.iter().find(|a| is_internal(a.ip())) {
        Some(a) if !allow_private => Err(format!(
            "the host {host} resolves to {}, an internal (loopback, private, link-local, multicast or unspecified) address",
            a.ip()
        )),
        _ => Ok(()),
    }
}

fn literal(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    if !allow_private && is_internal(ip) {
        Err(format!(
            "{ip} is an internal (loopback, private, link-local, multicast or unspecified) address"
        ))
    } else {
        Ok(())
    }
}

/// Resolves names for the delivery client and refuses internal addresses (unless allowed): the
/// check at delivery time.
#[derive(Debug, Clone, Copy)]
struct Guard {
    allow_private: bool,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|a| is_internal(a.ip())) {
                return Err(format!("{host} resolves to an internal address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Signs and sends webhook deliveries.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    allow_private: bool,
}

impl Client {
    /// A client that follows no redirects, waits [`TIMEOUT`] and resolves through the
    /// address check. Errors: the TLS roots cannot be loaded.
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .dns_resolver(Arc::new(Guard { allow_private }))
            .user_agent(concat!("Plenary-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            allow_private,
        })
    }

    /// Delivers outbox row `message` (its `payload` is the body) to its URL.
    pub async fn deliver(&self, message: &Claimed) -> Outcome {
        let Some(secret) = &message.secret else {
            return Outcome::Permanent {
                error: "the webhook was deleted".into(),
                status_code: None,
            };
        };
        if let Err(error) = self.check_literal(&message.recipient) {
            return Outcome::Permanent {
                error,
                status_code: None,
            };
        }
        let body = match serde_json::to_vec(&message.payload) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Permanent {
                    error: e.to_string(),
                    status_code: None,
                }
            }
        };
        let id = message.id.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = match sign(secret, &id, timestamp, &body) {
            Ok(s) => s,
            Err(error) => {
                return Outcome::Permanent {
                    error,
                    status_code: None,
                }
            }
        };
        let sent = self
            .http
            .post(&message.recipient)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                if answer.status().is_success() {
                    return Outcome::Delivered {
                        status_code: Some(status),
                    };
                }
                let mut excerpt = Vec::new();
                while excerpt.len() < ANSWER_BYTES {
                    match answer.chunk().await {
                        Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                excerpt.truncate(ANSWER_BYTES);
                let text = String::from_utf8_lossy(&excerpt);
                let text: String = text.chars().take(200).collect();
                Outcome::Transient {
                    error: format!("answered {status}: {}", text.trim()),
                    status_code: Some(status),
                }
            }
            Err(e) => Outcome::Transient {
                error: error_chain(&e),
                status_code: None,
            },
        }
    }

    /// Refuses a URL whose host is an internal IP written out (names are checked by the
    /// resolver). Errors: why.
    fn check_literal(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook url: {e}"))?;
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        match ip {
            Some(ip) if !self.allow_private && is_internal(ip) => {
                Err(format!("{ip} is an internal address"))
            }
            _ => Ok(()),
        }
    }
}

/// The error and its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The `webhook-signature` value for `body` sent as `id` at `timestamp`: `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the decoded secret. Errors: a secret
/// that is not `whsec_` and base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("webhook secret: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// A new secret: `whsec_` and the base64 of 32 random bytes from the operating system.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(
            sig.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "ff02::1",
            // Found by a new user's trial: these were accepted.
            "192.0.0.1",
            "198.18.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            // The rest of the special-purpose registries.
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "240.0.0.1",
            "::127.0.0.1",
            "64:ff9b:1::1",
            "2001::1",
            "2001:db8::1",
            "100::1",
            "fec0::1",
        ] {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert!(is_internal(parsed), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "2001:4860:4860::8888",
            "100.128.0.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "198.20.0.1",
            "192.0.3.1",
        ] {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert!(!is_internal(parsed), "{ip}");
        }
    }
}
