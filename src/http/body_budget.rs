//! The budget of request bodies in flight (API.md, "Details"): slow uploads cannot exhaust
//! memory.
//!
//! Before a request's body is read, [`middleware`] reserves what the request may send: its
//! `Content-Length`, or without one (a chunked body) its route's limit
//! ([`body_limit`]). A `Content-Length` over that limit is 413 at once. A reservation that
//! would pass the total budget (`PLENARY_BODY_BUDGET_BYTES`) or its client address's
//! (`PLENARY_BODY_BUDGET_PER_ADDRESS_BYTES`; the address as the login limits see it,
//! [`client_address`]) is refused with 503 `/problems/body-budget-exceeded` and
//! `Retry-After`, its body unread and its connection closed. A reservation is held until the
//! request ends, however it ends (answered, failed, or dropped when the client goes away):
//! [`Reservation`] gives its bytes back when dropped. A chunked body that sends more than it
//! reserved fails the read and is answered 413.
//!
//! Why: 2 500 anonymous connections, each declaring a login body of 1 MiB and stalling before
//! its end, took the server from 271 MiB to 4.1 GiB of RSS.
//!
//! And the memory comes back: glibc's malloc keeps what such a burst freed (2 500 stalled
//! uploads, debug build: RSS 50 MiB before, 291 MiB a minute after they had all closed;
//! `malloc_trim` then brought it to 76 MiB). While the budget was pressed in the last minute
//! (a refusal, 413 or 503, or more than a quarter of it reserved), a thread of
//! [`BodyBudget::start`] asks malloc to give freed memory back every 5 s.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, ConnectionType};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::{Stream, StreamExt};

use super::request::client_address;
pub use crate::config::BodyBudgetSettings;
use crate::config::TrustedProxies;
use crate::error::ApiError;
use crate::http::connection::Discard;
use crate::http::request::body_limit;

/// How long after the budget was last pressed freed memory is given back, and how often.
const TRIM_FOR: Duration = Duration::from_secs(60);
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// What a client's bodies are counted under: its IPv4 address, or the /64 network of an IPv6
/// one (what one subscriber is given); IPv4-mapped IPv6 addresses count as IPv4.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        },
        v4 => v4,
    }
}

#[derive(Debug, Default)]
struct InFlight {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
    /// The last refusal, or reservation past a quarter of the total budget.
    pressed_at: Option<Instant>,
}

/// The bytes reserved by the bodies in flight of one instance, shared by its workers.
#[derive(Debug)]
pub struct BodyBudget {
    settings: BodyBudgetSettings,
    in_flight: Mutex<InFlight>,
}

impl BodyBudget {
    /// A budget with nothing reserved.
    pub fn new(settings: BodyBudgetSettings) -> Self {
        Self {
            settings,
            in_flight: Mutex::new(InFlight::default()),
        }
    }

    /// [`Self::new`], with the thread that gives memory back after the budget was pressed
    /// (see the module); it ends when the budget is dropped.
    pub fn start(settings: BodyBudgetSettings) -> Arc<Self> {
        let budget = Arc::new(Self::new(settings));
        let weak = Arc::downgrade(&budget);
        let spawned = std::thread::Builder::new()
            .name("body-budget-trim".to_string())
            .spawn(move || loop {
                std::thread::sleep(TRIM_EVERY);
                let Some(budget) = weak.upgrade() else {
                    return;
                };
                let pressed = budget
                    .in_flight()
                    .pressed_at
                    .is_some_and(|at| at.elapsed() < TRIM_FOR);
                drop(budget);
                if pressed {
                    give_back_freed_memory();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no thread to give memory back after bursts of bodies");
        }
        budget
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, InFlight> {
        // Nothing panics while holding the lock; a poisoned one still holds correct counts.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves `bytes` for a body from `address` (`None`: counted in the total only).
    /// Errors: 503 [`ApiError::BodyBudgetExceeded`], naming the budget it would pass.
    pub fn reserve(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        bytes: usize,
    ) -> Result<Reservation, ApiError> {
        let key = address.map(address_key);
        let mut in_flight = self.in_flight();
        if in_flight.total + bytes > self.settings.total_bytes {
            in_flight.pressed_at = Some(Instant::now());
            return Err(ApiError::BodyBudgetExceeded {
                of_address: false,
                held: in_flight.total,
                budget: self.settings.total_bytes,
            });
        }
        if let Some(key) = key {
            let held = in_flight.by_address.get(&key).copied().unwrap_or(0);
            if held + bytes > self.settings.per_address_bytes {
                in_flight.pressed_at = Some(Instant::now());
                return Err(ApiError::BodyBudgetExceeded {
                    of_address: true,
                    held,
                    budget: self.settings.per_address_bytes,
                });
            }
            in_flight.by_address.insert(key, held + bytes);
        }
        in_flight.total += bytes;
        if in_flight.total > self.settings.total_bytes / 4 {
            in_flight.pressed_at = Some(Instant::now());
        }
        Ok(Reservation {
            budget: self.clone(),
            key,
            bytes,
        })
    }

    /// Records a refusal made without a reservation (a `Content-Length` over its limit): it
    /// presses the budget as much as one past it.
    fn press(&self) {
        self.in_flight().pressed_at = Some(Instant::now());
    }

    /// The bytes reserved now, in total.
    pub fn reserved(&self) -> usize {
        self.in_flight().total
    }
}

/// Asks malloc to return the memory it holds free to the system (glibc; elsewhere nothing).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of malloc's own arenas, under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Bytes reserved for one body; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<BodyBudget>,
    key: Option<IpAddr>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut in_flight = self.budget.in_flight();
        in_flight.total = in_flight.total.saturating_sub(self.bytes);
        if let Some(key) = self.key {
            if let Some(held) = in_flight.by_address.get_mut(&key) {
                *held = held.saturating_sub(self.bytes);
                if *held == 0 {
                    in_flight.by_address.remove(&key);
                }
            }
        }
    }
}

/// A request body that fails with [`PayloadError::Overflow`] once it passes `left` bytes,
/// and records that it did in `overflowed`.
struct Bounded {
    inner: Payload,
    left: usize,
    overflowed: Rc<Cell<bool>>,
}

impl Stream for Bounded {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.overflowed.get() {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) if chunk.len() > self.left => {
                self.overflowed.set(true);
                Poll::Ready(Some(Err(PayloadError::Overflow)))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                self.left -= chunk.len();
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}

/// `error` as the answer to `req`, with `Connection: close` (its body is left unread). What
/// the client still sends of a body of declared length is dropped as it arrives
/// ([`Discard`]); a chunked body is left to actix-http, which waits for its end.
fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    if req.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(discard) = req.conn_data::<Discard>() {
            discard.set();
        }
    }
    let mut response = error.error_response();
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    req.into_response(response)
}

/// Reserves a request's body in the budget before anything reads it, and holds the
/// reservation until the request ends (see the module). Requests without a body pass as
/// they are. Must sit outside everything that reads bodies.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let payload = req.take_payload();
    let budget = req.app_data::<web::Data<BodyBudget>>().cloned();
    let proxies = req.app_data::<web::Data<TrustedProxies>>().cloned();
    let (Some(budget), Some(proxies), false) = (budget, proxies, matches!(payload, Payload::None))
    else {
        req.set_payload(payload);
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limit = body_limit(req.method(), req.path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = match declared {
        Some(n) if n > limit as u64 => {
            budget.press();
            return Ok(refuse(req, ApiError::PayloadTooLarge(limit)));
        }
        Some(n) => n as usize,
        None => limit,
    };
    let address = client_address(req.request(), &proxies);
    let reservation = match budget.reserve(address, bytes) {
        Ok(reservation) => reservation,
        Err(error) => {
            tracing::debug!(?address, bytes, "body budget exceeded");
            return Ok(refuse(req, error));
        }
    };
    let overflowed = Rc::new(Cell::new(false));
    req.set_payload(Payload::Stream {
        payload: Box::pin(Bounded {
            inner: payload,
            left: bytes,
            overflowed: overflowed.clone(),
        }),
    });
    let res = next.call(req).await?;
    drop(reservation);
    if !overflowed.get() {
        return Ok(res.map_into_boxed_body());
    }
    let (req, _) = res.into_parts();
    Ok(refuse(
        ServiceRequest::from_request(req),
        ApiError::PayloadTooLarge(limit),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn reservations_are_bounded_in_total_and_per_address_and_given_back() {
        let budget = Arc::new(BodyBudget::new(BodyBudgetSettings {
            total_bytes: 300,
            per_address_bytes: 200,
        }));
        let a = budget.reserve(ip("10.0.0.1"), 150);
        assert!(a.is_ok());
        // The address's budget, then the total's.
        assert!(budget.reserve(ip("10.0.0.1"), 100).is_err());
        assert!(budget.reserve(ip("::ffff:10.0.0.1"), 100).is_err());
        let b = budget.reserve(ip("10.0.0.2"), 150);
        assert!(b.is_ok());
        assert!(budget.reserve(ip("10.0.0.3"), 1).is_err());
        assert_eq!(budget.reserved(), 300);
        drop(a);
        assert_eq!(budget.reserved(), 150);
        assert!(budget.reserve(ip("10.0.0.1"), 150).is_ok());
        // Given back as soon as that reservation was dropped.
        assert_eq!(budget.reserved(), 150);
        drop(b);
        assert_eq!(budget.reserved(), 0);
        assert!(budget.in_flight().by_address.is_empty());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            address_key(
                "2001:db8:1:2:aaaa::1"
                    .parse()
                    .unwrap_or(IpAddr::V4(0.into()))
            ),
            "2001:db8:1:2::".parse().unwrap_or(IpAddr::V4(0.into()))
        );
        assert_eq!(
            address_key("::ffff:192.0.2.7".parse().unwrap_or(IpAddr::V4(0.into()))),
            "192.0.2.7".parse().unwrap_or(IpAddr::V4(0.into()))
        );
    }
}
