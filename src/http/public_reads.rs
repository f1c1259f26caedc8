//! What an instance shares among its workers for public reads ([`PublicReads`]): the revisions
//! it knows, the replica's status, and the cache of rendered responses ([`ResponseCache`],
//! bounded in bytes, with the reads in flight that refill it). Where a read is answered from,
//! and why it is never stale, is [`crate::http::public_cache`], the middleware that uses them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue, IfNoneMatch};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use uuid::Uuid;

use crate::conditional;
use crate::config::PublicReadSettings;
use crate::db::replica::ReplicaStatus;
use crate::freshness::Freshness;

/// The response header naming where a public read was answered from: `cache`, `replica` or
/// `primary`.
pub const SOURCE_HEADER: &str = "x-plenary-source";

/// The longest path and query that is cached. Handlers ignore unknown query parameters, so
/// `?junk=...` makes a new key for the same answer: long ones are not kept at all, and short
/// ones meet the cache's admission (quick_cache's CLOCK-Pro: a key read once enters as cold and
/// goes first), which keeps a key read once from evicting one read often.
pub(super) const MAX_KEY_BYTES: usize = 512;

/// Bytes counted for an entry besides its key, headers and body (the entry's own fields and
/// the cache's bookkeeping).
const ENTRY_OVERHEAD: usize = 256;

/// The longest a coalesced read's answer is kept for requests that saw the same entry (the
/// request that made the read removes it as soon as the waiting requests have it).
const FLIGHT_TTL: Duration = Duration::from_secs(1);

/// One rendered response: its status, headers and body, the conference revision it is no
/// newer than, and when the primary read that made it began (`None`: the replica made it).
#[derive(Debug)]
pub struct Entry {
    pub(super) conference: Uuid,
    pub(super) revision: i64,
    pub(super) status: StatusCode,
    pub(super) read_at: Option<Instant>,
    pub(super) source: Source,
    /// Unique per entry: the key of the coalesced read that replaces it ([`Flights`]).
    pub(super) seq: u64,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Entry {
    fn weight(key: &str, entry: &Entry) -> u32 {
        let headers: usize = entry
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum();
        u32::try_from(key.len() + headers + entry.body.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
    }

    fn etag(&self) -> Option<&str> {
        self.headers.get(header::ETAG).and_then(|v| v.to_str().ok())
    }

    /// Whether this instance may serve the entry for conference `id` now: it is no older than
    /// what the instance knows, and the instance is sure or the entry was read from the
    /// primary within the sure window ([`Freshness::vouches_for`]).
    pub(super) fn current(&self, id: Uuid, fresh: &Freshness) -> bool {
        self.conference == id && self.revision >= fresh.known(id) && fresh.vouches_for(self.read_at)
    }

    /// The answer to a request with `if_none_match` (its parsed `If-None-Match`): for a 200,
    /// 304 with the `ETag` when it holds the entry's tag, else the whole response. The
    /// headers are one copy of the entry's map, made with room for the source and the CORS
    /// headers ([`Entry::ready_headers`]), so nothing grows on the way out.
    pub(super) fn respond(
        &self,
        if_none_match: Option<&IfNoneMatch>,
        source: Source,
    ) -> HttpResponse {
        if if_none_match.is_some() && self.status == StatusCode::OK {
            if let Some(etag) = self.etag() {
                if conditional::none_match_in(if_none_match, etag) {
                    let mut res = HttpResponse::NotModified().finish();
                    if let Some(v) = self.headers.get(header::ETAG) {
                        res.headers_mut().insert(header::ETAG, v.clone());
                    }
                    source.mark(res.headers_mut());
                    return res;
                }
            }
        }
        let mut res = HttpResponse::build(self.status).body(self.body.clone());
        *res.headers_mut() = self.headers.clone();
        source.mark(res.headers_mut());
        res
    }

    /// A response's headers as an entry keeps them: the same, in a map with room for the
    /// headers added to every answer from it (the source here, then CORS).
    pub(super) fn ready_headers(headers: &HeaderMap) -> HeaderMap {
        let mut ready = HeaderMap::with_capacity(headers.len() + 4);
        for (name, value) in headers {
            ready.append(name.clone(), value.clone());
        }
        ready
    }
}

/// The reads in flight for the cache, one per response key and entry it replaces: moka's
/// coalescing (`try_get_with`) runs one read per key however many requests wait for it, and
/// hands its answer to all of them.
pub(super) type Flights = moka::future::Cache<(String, u64), Arc<Entry>>;

/// What the cache counts: database reads it made, requests that shared another's read, and
/// requests that waited for the instance to be sure again.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Database reads made to fill the cache (one per coalesced read).
    pub fills: AtomicU64,
    /// Requests answered by a read another request made.
    pub shared: AtomicU64,
    /// Requests that waited for the instance to be sure ([`UNSURE_WAIT`]).
    pub waits: AtomicU64,
}

/// What an entry weighs in the cache: [`Entry::weight`].
#[derive(Debug, Clone, Copy)]
struct Weight;

impl quick_cache::Weighter<String, Arc<Entry>> for Weight {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        u64::from(Entry::weight(key, entry))
    }
}

/// The cache's shards, each holding an eighth of the bound. quick_cache keeps no entry over
/// 97 % of its shard, so with 8 an entry of up to a sixteenth of the bound always fits, on any
/// number of cores (its default, four shards per core, would make that bound smaller on
/// larger machines).
const SHARDS: usize = 8;

/// The typical size of an entry, for the cache's first allocation (a 40-delegation
/// attendance is about 4 KiB with its headers).
const TYPICAL_ENTRY_BYTES: u64 = 4096;

/// The cache of rendered public responses, bounded in bytes ([`Entry::weight`]).
///
/// `quick_cache`, whose reads take a shard's read lock and flip a bit: a cached read is most
/// of what a spike asks, and moka's bookkeeping of every read (its access queues and their
/// housekeeping) was 9 % of the server's CPU time on cached attendance
/// (benches/RESULTS-overload.md).
/// It evicts inside `insert`, so the bound holds after every insert. The coalesced reads in
/// flight ([`Flights`]) stay moka's, for its `try_get_with`.
#[derive(Clone)]
pub struct ResponseCache {
    inner: Arc<quick_cache::sync::Cache<String, Arc<Entry>, Weight>>,
    pub(super) flights: Flights,
    max_bytes: u64,
    seq: Arc<AtomicU64>,
    /// Counters (`benches/run.sh` reports them from the server's log).
    pub stats: Arc<CacheStats>,
}

impl ResponseCache {
    /// A cache of at most `max_bytes` bytes; an entry over 1/16 of that is not kept.
    pub fn new(max_bytes: u64) -> Self {
        let items = usize::try_from((max_bytes / TYPICAL_ENTRY_BYTES).max(16)).unwrap_or(16);
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(items)
            .weight_capacity(max_bytes)
            .shards(SHARDS)
            .build();
        let inner = Arc::new(match options {
            Ok(options) => quick_cache::sync::Cache::with_options(
                options,
                Weight,
                Default::default(),
                Default::default(),
            ),
            // Only a missing capacity fails, and it is set.
            Err(_) => quick_cache::sync::Cache::with_weighter(items, max_bytes, Weight),
        });
        let flights = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &(String, u64), entry: &Arc<Entry>| Entry::weight(&key.0, entry))
            .time_to_live(FLIGHT_TTL)
            .build();
        Self {
            inner,
            flights,
            max_bytes,
            seq: Arc::new(AtomicU64::new(1)),
            stats: Arc::new(CacheStats::default()),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.inner.get(key)
    }

    pub(super) fn insert(&self, key: String, entry: Arc<Entry>) {
        if u64::from(Entry::weight(&key, &entry)) > self.max_bytes / 16 {
            return;
        }
        // Evicts within the call: the bound holds after every insert.
        self.inner.insert(key, entry);
    }

    pub(super) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The bytes held now ([`Entry::weight`] summed).
    pub fn weighted_size(&self) -> u64 {
        self.inner.weight()
    }

    /// The bound in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// What an instance shares among its workers for public reads.
pub struct PublicReads {
    /// The revisions this instance knows.
    pub freshness: Arc<Freshness>,
    /// The cache (`None`: off).
    pub cache: Option<ResponseCache>,
    /// The replica's measured lag (`None`: no replica).
    pub replica: Option<Arc<ReplicaStatus>>,
}

impl PublicReads {
    /// The shared parts for `settings` (the revision watcher and replica monitor are started separately).
    pub fn new(settings: &PublicReadSettings) -> Self {
        Self {
            freshness: Arc::new(Freshness::default()),
            cache: (settings.cache_bytes > 0).then(|| ResponseCache::new(settings.cache_bytes)),
            replica: settings
                .read_url
                .as_ref()
                .map(|_| Arc::new(ReplicaStatus::new(settings.replica_max_lag))),
        }
    }
}

/// Where a public read was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Cache,
    Replica,
    Primary,
}

impl Source {
    pub(super) fn mark(self, headers: &mut HeaderMap) {
        let value = match self {
            Source::Cache => "cache",
            Source::Replica => "replica",
            Source::Primary => "primary",
        };
        headers.insert(
            HeaderName::from_static(SOURCE_HEADER),
            HeaderValue::from_static(value),
        );
    }
}

/// Logs what the cache counted ([`CacheStats`]) and how often the instance became sure again
/// ([`Freshness::lapses`]) every 5 s while they change, on a thread of its own; stops once
/// the instance is gone. `benches/run.sh` reads these lines.
pub fn spawn_reporter(public: &Arc<PublicReads>) {
    let instance = Arc::downgrade(public);
    crate::db::in_background("plenary-cache-stats", async move {
        let mut last = (0, 0, 0, 0);
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let Some(public) = instance.upgrade() else {
                return;
            };
            let Some(cache) = &public.cache else {
                return;
            };
            let now = (
                cache.stats.fills.load(Ordering::Relaxed),
                cache.stats.shared.load(Ordering::Relaxed),
                cache.stats.waits.load(Ordering::Relaxed),
                public.freshness.lapses(),
            );
            if now != last {
                tracing::info!(
                    fills = now.0,
                    shared = now.1,
                    waits = now.2,
                    sure_again = now.3,
                    "public reads"
                );
                last = now;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: usize) -> Arc<Entry> {
        Arc::new(Entry {
            conference: Uuid::nil(),
            revision: 1,
            status: StatusCode::OK,
            read_at: None,
            source: Source::Primary,
            seq: 0,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; bytes]),
        })
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let cache = ResponseCache::new(64 * 1024);
        for i in 0..2_000 {
            cache.insert(
                format!("/api/v1/conferences/x/attendance?{i}"),
                entry(1_000),
            );
            assert!(
                cache.weighted_size() <= cache.max_bytes(),
                "{} bytes held, bound {}",
                cache.weighted_size(),
                cache.max_bytes()
            );
        }
        assert!(cache.weighted_size() > 32 * 1024, "the cache is used");
        // An entry over a sixteenth of the bound is not kept.
        cache.insert("big".into(), entry(8 * 1024));
        assert!(cache.get("big").is_none());
    }

    /// An entry of up to a sixteenth of the bound is kept, on any number of cores: the cache's
    /// shards (each keeping nothing over 97 % of its eighth) do not make that bound smaller.
    #[test]
    fn an_entry_of_a_sixteenth_of_the_bound_is_kept() {
        let cache = ResponseCache::new(1024 * 1024);
        let key = "/api/v1/conferences/x/attendance";
        let body = 1024 * 1024 / 16 - key.len() - ENTRY_OVERHEAD;
        cache.insert(key.into(), entry(body));
        assert!(cache.get(key).is_some_and(|e| e.body.len() == body));
    }
}
