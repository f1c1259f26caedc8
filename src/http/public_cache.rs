//! Public reads: where an anonymous `GET` is answered from — this instance's cache of rendered
//! responses, the read replica (`DATABASE_READ_URL`) or the primary — and the response header
//! [`SOURCE_HEADER`](crate::http::public_reads::SOURCE_HEADER) that says which.
//!
//! **What is cached.** An anonymous (`Authorization`-less) `GET` under
//! `/api/v1/conferences/{id}/…` (the conference, its attendance in every form, delegations,
//! participants, editions, exports, sessions, protocol order) answered 200, keyed by path and
//! query, in a `quick_cache` cache bounded in bytes (`PLENARY_CACHE_BYTES`, default 64 MiB; 0 turns
//! it off). Reads across conferences (lists, countries, organisations, the summary) and every
//! authenticated read are never cached.
//!
//! **Why it is never stale** (the five lines of issue 14):
//! 1. Every audited write bumps its conferences' revisions in its own transaction, under the
//!    revision row's lock, with the transaction's id; each instance asks the primary every
//!    100 ms which revisions changed since the oldest transaction running at its previous
//!    question, so no committed bump is missed whatever order writes commit in.
//! 2. An entry is stored with a revision *no newer* than the data it holds: what this instance
//!    knew before the read (primary), or what the replica held before the read (replica).
//! 3. An entry is served only while its revision is at least the newest this instance knows
//!    ([`crate::freshness::Freshness::known`]), and only while the instance is sure it has
//!    seen every write committed more than 800 ms ago (a question asked less than 800 ms ago
//!    was answered) or the entry itself was read from the primary less than 800 ms ago (that
//!    read saw every write committed before it began).
//!
//! **What being unsure costs** (issue 22). When the instance cannot vouch for an entry only
//! because it is unsure, the request first waits for the watcher's next answer (at most
//! [`UNSURE_WAIT`]); an entry that is missing, older than what the instance knows, or still
//! unvouched is replaced by *one* database read per key, however many requests wait for it
//! (moka's `try_get_with` coalescing, keyed by the response and the entry it replaces), and
//! every waiting request is answered from that read. The database never sees a stampede of
//! uncached reads: under a spike, or while a migration holds the revisions table, readers
//! wait for one read, not for the pool. (While such a lock is held and no transaction
//! commits, the watcher stays sure without its question: [`crate::freshness`].) Reads for the cache take turns
//! ([`crate::state::AppState::fills`]: one fewer than the worker's connections) and wait for
//! a turn up to [`FILL_WAIT`], longer than for the pool: a fill held up by the lock (its
//! revision read waits for it) delays the next fills instead of making them 503, and writes
//! and logins still find a connection.
//! 4. The replica serves a conference only when its own revision of it is at least the one
//!    this instance knows (else the primary), so a refill never stores replica data under a
//!    newer revision; and every read served from a database raises what the instance knows
//!    to that database's revision read after it, so no later read (replica or cache) returns
//!    older data than one this instance already served. (Without that, a read from a replica
//!    that had just caught up, then a cache entry filled a moment earlier from the primary,
//!    went back in time: the scale-out check found it.)
//!    (Reads across conferences, never cached, go back to the replica after the primary only
//!    once it has replayed what the primary held then:
//!    [`ReplicaStatus::usable_across_conferences`].)
//! 5. The instance's own writes are known before they are answered, so it reads them at once.
//!
//! `If-None-Match` is answered from the entry (304) without touching the database.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::HttpRequest;
use std::sync::Arc;
use uuid::Uuid;

use super::public_reads::{Entry, ResponseCache, Source, MAX_KEY_BYTES};
use crate::conditional;
pub use crate::config::PublicReadSettings;
use crate::db::replica;
use crate::freshness;
use crate::state::AppState;
use crate::store::revisions;

/// Longest a public read waits for the instance to be sure again before it reads the
/// database itself (coalesced with every other request for the same response). The watcher
/// answers every 100 ms, so a wait is usually one question long; a lock on the revisions table
/// holds the questions (and every write) for as long as it is held.
pub const UNSURE_WAIT: Duration = Duration::from_millis(1500);

/// Longest a fill waits for its turn ([`crate::state::AppState::fills`]) before it answers
/// 503. Longer than the pool's wait on purpose: fills queue for their turn, not for the pool,
/// so a lock held on the revisions table for a few seconds (what a migration takes), which
/// holds up the fill in flight (its revision read waits for the lock), is waited out rather
/// than answered 503, while writes and logins keep a connection of their own.
pub const FILL_WAIT: Duration = Duration::from_secs(5);

/// How many times a request looks again when the coalesced read it joined answered for a
/// revision older than one this instance knows by then, before it reads on its own.
const ATTEMPTS: usize = 3;

/// The conference a path under `/api/v1/conferences/{id}` belongs to.
fn conference_of(path: &str) -> Option<Uuid> {
    let rest = path.strip_prefix("/api/v1/conferences/")?;
    let id = rest.split('/').next()?;
    Uuid::parse_str(id).ok()
}

/// The middleware: every request runs with this instance's [`Freshness`] (so its writes are
/// known at once); an anonymous `GET` under `/api/v1/` is answered from the cache, the replica
/// or the primary as the module documentation says. A read whose query fails on the replica
/// (it stopped, or cancelled the query in a recovery conflict) answers 503 and marks the
/// replica down, so the next reads go to the primary.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let public_read = req.method() == Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION)
        && req.path().starts_with("/api/v1/");
    if !public_read {
        let fresh = state.public.freshness.clone();
        let res = freshness::scope(fresh, next.call(req)).await?;
        return Ok(res.map_into_boxed_body());
    }
    let conference = conference_of(req.path());
    if let (Some(cache), Some(id)) = (&state.public.cache, conference) {
        let key = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path(), |pq| pq.as_str());
        if key.len() <= MAX_KEY_BYTES {
            // The usual case first, with nothing allocated: an entry this instance may serve.
            if let Some(entry) = cache.get(key) {
                if entry.current(id, &state.public.freshness) {
                    let tags = conditional::if_none_match(&req);
                    return Ok(req.into_response(entry.respond(tags.as_ref(), Source::Cache)));
                }
            }
            let key = key.to_string();
            return cached(req, &next, &state, cache, id, key).await;
        }
    }
    let read = read_database(&state, req, &next, conference).await?;
    let mut res = read.response.map_into_boxed_body();
    read.source.mark(res.headers_mut());
    Ok(res)
}

/// A cacheable read of conference `id` under `key`: the entry when this instance may serve it
/// ([`Entry::current`]); when it is only unsure, after waiting for the watcher's next answer
/// ([`UNSURE_WAIT`]); else one database read shared by every request for the same key and
/// entry ([`Flights`]), which refills the cache. The request that made the read is answered
/// from it; one that joined uses it only if it is current for it too, else looks again, and
/// after [`ATTEMPTS`] reads on its own.
async fn cached<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: &Next<B>,
    state: &web::Data<AppState>,
    cache: &ResponseCache,
    id: Uuid,
    key: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let fresh = &state.public.freshness;
    // `If-None-Match` is answered from the entry; the read that fills it is made whole
    // ([`fill`]).
    let tags = conditional::if_none_match(&req);
    let mut waited = false;
    for _ in 0..ATTEMPTS {
        let seen = cache.get(&key);
        if let Some(entry) = &seen {
            if entry.current(id, fresh) {
                return Ok(req.into_response(entry.respond(tags.as_ref(), Source::Cache)));
            }
            let only_unsure = entry.conference == id && entry.revision >= fresh.known(id);
            if only_unsure && !waited {
                waited = true;
                cache.stats.waits.fetch_add(1, Ordering::Relaxed);
                if fresh.wait_until_sure(UNSURE_WAIT).await {
                    continue;
                }
            }
        }
        let flight = (key.clone(), seen.as_ref().map_or(0, |e| e.seq));
        let pending = Cell::new(Some(req));
        let led: Cell<Option<Result<HttpRequest, actix_web::Error>>> = Cell::new(None);
        let shared = cache
            .flights
            .try_get_with(flight.clone(), async {
                let Some(req) = pending.take() else {
                    return Err(FillFailed);
                };
                match fill(state, req, next, cache, id, &key).await {
                    Ok((http_req, entry)) => {
                        led.set(Some(Ok(http_req)));
                        Ok(entry)
                    }
                    Err(e) => {
                        led.set(Some(Err(e)));
                        Err(FillFailed)
                    }
                }
            })
            .await;
        match (led.take(), shared) {
            // This request made the read: it is answered from it (its own, current read).
            (Some(Ok(http_req)), Ok(entry)) => {
                // The waiting requests have it; later ones find a 200 in the cache and read
                // anything else anew (only 200 is cached).
                cache.flights.invalidate(&flight).await;
                let res = entry.respond(tags.as_ref(), entry.source);
                return Ok(ServiceResponse::new(http_req, res));
            }
            (Some(Err(e)), _) => return Err(e),
            (Some(Ok(_)), Err(_)) => {
                return Err(actix_web::error::ErrorInternalServerError(
                    "a shared read failed",
                ))
            }
            // The read this request joined failed (moka hands its error to every waiter): its
            // maker answers that error; this request looks again with its own request.
            (None, Err(_)) => {
                let Some(own) = pending.take() else {
                    return Err(actix_web::error::ErrorInternalServerError(
                        "a shared read took the request",
                    ));
                };
                req = own;
            }
            (None, Ok(entry)) => {
                let Some(own) = pending.take() else {
                    return Err(actix_web::error::ErrorInternalServerError(
                        "a shared read took the request",
                    ));
                };
                req = own;
                // A server error is the read's own bad luck (a pool that had no connection),
                // not an answer to share: a request that joined it reads again itself.
                if entry.current(id, fresh) && !entry.status.is_server_error() {
                    // Answered without a database read of its own: from memory, as the cache.
                    cache.stats.shared.fetch_add(1, Ordering::Relaxed);
                    return Ok(req.into_response(entry.respond(tags.as_ref(), Source::Cache)));
                }
            }
        }
    }
    let _turn = fill_turn(state).await?;
    let read = read_database(state, req, next, Some(id)).await?;
    let mut res = read.response.map_into_boxed_body();
    read.source.mark(res.headers_mut());
    Ok(res)
}

/// Waits for a turn to read the database for the cache ([`crate::state::AppState::fills`]),
/// at most [`FILL_WAIT`]. Errors: 503 when none came.
async fn fill_turn(
    state: &web::Data<AppState>,
) -> Result<tokio::sync::SemaphorePermit<'_>, actix_web::Error> {
    match tokio::time::timeout(FILL_WAIT, state.fills.acquire()).await {
        Ok(Ok(turn)) => Ok(turn),
        _ => Err(crate::error::ApiError::Unavailable(format!(
            "no turn to read the database for a public read within {FILL_WAIT:?}"
        ))
        .into()),
    }
}

/// A coalesced read failed: the request that made it answers its own error; the others look
/// again with their own requests.
#[derive(Debug)]
struct FillFailed;

/// Reads `req` (conference `id`, key `key`) from the database for the cache: the entry it
/// makes (any status; a 200 is stored) and the request back, to answer with.
async fn fill<B: MessageBody + 'static>(
    state: &web::Data<AppState>,
    req: ServiceRequest,
    next: &Next<B>,
    cache: &ResponseCache,
    id: Uuid,
    key: &str,
) -> Result<(HttpRequest, Arc<Entry>), actix_web::Error> {
    let _turn = fill_turn(state).await?;
    cache.stats.fills.fetch_add(1, Ordering::Relaxed);
    // A read to be stored is made whole (200): its own caller's tags are answered from it.
    let mut req = req;
    req.headers_mut().remove(header::IF_NONE_MATCH);
    let read = read_database(state, req, next, Some(id)).await?;
    let (http_req, response) = read.response.into_parts();
    let (head, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("reading a response body"))?;
    let entry = Arc::new(Entry {
        conference: id,
        revision: read.revision,
        status: head.status(),
        read_at: (read.source == Source::Primary).then_some(read.began),
        source: read.source,
        seq: cache.next_seq(),
        headers: Entry::ready_headers(head.headers()),
        body,
    });
    if entry.status == StatusCode::OK {
        cache.insert(key.to_string(), entry.clone());
    }
    Ok((http_req, entry))
}

/// A public read answered by a database.
struct Read<B> {
    response: ServiceResponse<B>,
    source: Source,
    /// The conference revision the data is no newer than (what the instance knew before the
    /// read, or what the replica held).
    revision: i64,
    /// When the read began (before its queries).
    began: Instant,
}

/// Serves `req` from the database: the replica when it is measured within its lag and holds
/// at least what this instance knows of the conference; else the primary. Then raises what
/// the instance knows to what that database holds after the read (monotonic reads).
async fn read_database<B: MessageBody + 'static>(
    state: &web::Data<AppState>,
    req: ServiceRequest,
    next: &Next<B>,
    conference: Option<Uuid>,
) -> Result<Read<B>, actix_web::Error> {
    let public = &state.public;
    let fresh = &public.freshness;
    let began = Instant::now();
    let known = conference.map_or(0, |id| fresh.known(id));
    let mut source = Source::Primary;
    let mut revision = known;
    if let (Some(status), Some(pool)) = (&public.replica, &state.read_pool) {
        let usable = match conference {
            Some(_) => status.usable(),
            None => status.usable_across_conferences(),
        };
        if usable {
            match probe(pool, conference).await {
                Ok(held) if held >= known => {
                    source = Source::Replica;
                    revision = held;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "read replica failed; reading from the primary");
                    status.down();
                }
            }
        }
    }
    let res = freshness::scope(
        fresh.clone(),
        replica::reading(source == Source::Replica, next.call(req)),
    )
    .await?;
    if source == Source::Replica && res.status().is_server_error() {
        tracing::warn!(status = %res.status(), "a read failed on the replica; the next go to the primary");
        if let Some(status) = &public.replica {
            status.down();
        }
    }
    // What a read from the database served raises what this instance knows, so that no later
    // read (from a lagging replica, or a cache entry filled from one) is older: for a
    // conference, its revision read again from the same database after the request's own
    // queries (their data is no newer); for reads across conferences answered by the primary,
    // the WAL position the replica must reach first.
    if let Some(id) = conference {
        if public.cache.is_some() || public.replica.is_some() {
            let pool = match (source, &state.read_pool) {
                (Source::Replica, Some(read_pool)) => read_pool,
                _ => &state.pool,
            };
            if let Ok(mut conn) = pool.get().await {
                if let Ok(held) = revisions::of(&mut conn, id).await {
                    fresh.advance(id, held);
                }
            }
        }
    } else if let (Source::Primary, Some(status)) = (source, &public.replica) {
        status.primary_read_done();
    }
    Ok(Read {
        response: res,
        source,
        revision,
        began,
    })
}

/// The replica's revision of `conference` (0 for reads outside a conference), read before the
/// request's own queries; an error when the replica cannot be reached.
async fn probe(pool: &crate::db::DbPool, conference: Option<Uuid>) -> anyhow::Result<i64> {
    let mut conn = pool.get().await?;
    Ok(revisions::of(&mut conn, conference.unwrap_or(Uuid::nil())).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conference_paths_name_their_conference() {
        let id = Uuid::now_v7();
        assert_eq!(
            conference_of(&format!("/api/v1/conferences/{id}/attendance.csv")),
            Some(id)
        );
        assert_eq!(
            conference_of(&format!("/api/v1/conferences/{id}")),
            Some(id)
        );
        assert_eq!(conference_of("/api/v1/conferences"), None);
        assert_eq!(
            conference_of("/api/v1/conferences/not-an-id/attendance"),
            None
        );
        assert_eq!(conference_of("/api/v1/countries/KH/attendance"), None);
    }
}
