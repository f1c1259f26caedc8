//! Builds the actix application: per-worker state ([`AppState`]), error rendering, routes;
//! binds and runs it.

use std::cell::Cell;
use std::future::Future;
use std::net::TcpListener;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;

use crate::auth::token::TokenKeys;
use crate::config::TrustedProxies;
use crate::db::{self, PoolSettings};
use crate::domain::input::MAX_BODY_BYTES;
use crate::error::{problem_response, PROBLEM_JSON};
use crate::http::public_cache::{PublicReadSettings, PublicReads};
use crate::state::AppState;
use crate::store::login_limits::LoginLimits;
use crate::store::reference;

/// Rewrites every error response that is not already problem+json (actix's own 404, 405, 413
/// and extractor errors) into an RFC 9457 body with the same status.
fn problemize<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (slug, title, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found", "no such route or resource"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            "this route does not accept this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload-too-large",
            "Payload too large",
            "the request body exceeds 1 MiB",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "Unsupported media type",
            "the request body must be application/json",
        ),
        s if s.is_server_error() => (
            "internal-error",
            "Internal server error",
            "an unexpected error occurred",
        ),
        _ => ("bad-request", "Bad request", "the request is malformed"),
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response: HttpResponse<BoxBody> =
        problem_response(status, slug, title, detail.to_string(), None);
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    let res: ServiceResponse<EitherBody<B, BoxBody>> =
        ServiceResponse::new(req, response).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// Answers `HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the request runs as `GET` and
/// the body is dropped, headers kept.
async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_head = req.method() == actix_web::http::Method::HEAD;
    if is_head {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let res = next.call(req).await?;
    if is_head {
        Ok(res.map_body(|_, _| BoxBody::new(())))
    } else {
        Ok(res.map_into_boxed_body())
    }
}

/// A request body stream that fails once `sleep` ends before the body is complete, and
/// records that it did in `timed_out`.
struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    timed_out: Rc<Cell<bool>>,
    done: bool,
}

impl futures_util::Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    self.timed_out.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body timed out",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Bounds the time to receive a request body to [`AppState::body_timeout`], counted from
/// the end of its headers (actix bounds the headers themselves): a body still incomplete
/// then fails the read, and the answer, whatever the reader made of it, is 408
/// problem+json with `Connection: close`. Must sit outside everything that reads bodies
/// (the `Idempotency-Key` layer included).
async fn body_deadline(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(limit) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.body_timeout)
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let timed_out = Rc::new(Cell::new(false));
    let stream = Deadline {
        inner: actix_web::HttpMessage::take_payload(&mut req),
        sleep: Box::pin(tokio::time::sleep(limit)),
        timed_out: timed_out.clone(),
        done: false,
    };
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(stream),
    });
    let res = next.call(req).await?;
    if !timed_out.get() {
        return Ok(res.map_into_boxed_body());
    }
    let (req, _) = res.into_parts();
    let mut response: HttpResponse<BoxBody> = problem_response(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        "Request timeout",
        format!(
            "the request body was not received within {} s",
            limit.as_secs_f64()
        ),
        None,
    );
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(req, response))
}

/// Registers the state, body limit, error rendering and routes on an actix `ServiceConfig`.
pub fn configure_app(state: web::Data<AppState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .configure(crate::routes::configure);
    }
}

/// Everything [`Application::build`] needs besides the database and the address.
#[derive(Debug, Clone)]
pub struct Options {
    /// Token keys (from `PLENARY_JWT_SECRET`).
    pub tokens: TokenKeys,
    /// Pool size and timeout.
    pub pool: PoolSettings,
    /// HTTP workers (`None`: one per CPU).
    pub workers: Option<usize>,
    /// Failed-login limits.
    pub login_limits: LoginLimits,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PLENARY_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Longest time to receive a request body (`PLENARY_BODY_TIMEOUT_SECS`), then 408.
    pub body_timeout: Duration,
    /// Days a focal-point invitation code stays valid.
    pub invitation_ttl_days: i64,
    /// The cache of public reads and the read replica.
    pub public_reads: PublicReadSettings,
}

/// A built server, bound and ready to run.
pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    /// Migrates the database at `database_url`, builds the pool and binds `bind_addr`
    /// (port 0 picks a free port).
    pub async fn build(
        database_url: &str,
        bind_addr: &str,
        options: Options,
    ) -> anyhow::Result<Self> {
        let Options {
            tokens,
            pool,
            workers,
            login_limits,
            trusted_proxies,
            body_timeout,
            invitation_ttl_days,
            public_reads,
        } = options;
        let trusted_proxies = Arc::new(trusted_proxies);
        reference::migrate(database_url).await?;
        // Read on a connection of its own: a pooled one would stay tied to this runtime.
        let countries = {
            let mut conn = AsyncPgConnection::establish(database_url)
                .await
                .context("connecting to the database")?;
            Arc::new(reference::country_index(&mut conn).await?)
        };
        // One pool per HTTP worker. A diesel-async connection is driven by a task on the
        // runtime that opened it, and every actix worker is a single-threaded runtime: with
        // one shared pool, a request on worker 1 using a connection opened by worker 2 waits
        // for worker 2 to be free to move its bytes, which showed as a long latency tail
        // under load (benches/RESULTS.md). A worker's own pool opens its connections lazily,
        // on first use, so on that worker's runtime.
        let workers = workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        let per_worker = PoolSettings {
            max_size: pool.max_size.div_ceil(workers).max(1),
            ..pool
        };
        // The instance's public reads: its known revisions (kept by the watcher on the
        // primary), its cache, and the replica's measured lag (kept by the monitor).
        let public = Arc::new(PublicReads::new(&public_reads));
        crate::freshness::spawn_watcher(database_url.to_string(), &public.freshness);
        if let (Some(read_url), Some(status)) = (&public_reads.read_url, &public.replica) {
            crate::db::replica::spawn_monitor(database_url.to_string(), read_url.clone(), status);
        }
        let states = (0..workers)
            .map(|_| {
                Ok(web::Data::new(AppState {
                    pool: db::build_pool(database_url, &per_worker)?,
                    countries: countries.clone(),
                    tokens: tokens.clone(),
                    login_limits,
                    trusted_proxies: trusted_proxies.clone(),
                    body_timeout,
                    invitation_ttl_days,
                    read_pool: public_reads
                        .read_url
                        .as_deref()
                        .map(|url| db::build_pool(url, &per_worker))
                        .transpose()?,
                    public: public.clone(),
                }))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let next_state = Arc::new(AtomicUsize::new(0));
        let listener =
            TcpListener::bind(bind_addr).with_context(|| format!("binding {bind_addr}"))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            // Called once per worker, on that worker's thread (again if a worker restarts,
            // which then shares a pool: correct, only slower).
            let state = states[next_state.fetch_add(1, Ordering::Relaxed) % states.len()].clone();
            // Innermost first: the Idempotency-Key layer, inside the body deadline (which bounds
            // its body reads too), inside the error rewriting (so that every error, the
            // layers' own included, leaves as problem+json), inside CORS (so that error answers
            // to reads carry its headers too).
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    crate::idempotency::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(body_deadline))
                .wrap(ErrorHandlers::new().default_handler(problemize))
                // Public reads: cache, replica or primary; and this instance's writes known
                // at once. Inside CORS, which adds its headers to cached answers too.
                .wrap(actix_web::middleware::from_fn(
                    crate::http::public_cache::middleware,
                ))
                // CORS outside the error rendering, so that error answers to reads carry it too.
                .wrap(crate::http::cors::policy())
                .wrap(actix_web::middleware::from_fn(crate::http::cors::finish))
                .wrap(actix_web::middleware::from_fn(head_as_get))
                .wrap(tracing_actix_web::TracingLogger::default())
                .configure(configure_app(state))
        })
        .workers(workers)
        .shutdown_timeout(30);
        let server = server.listen(listener)?.run();
        Ok(Self { server, port })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM; in-flight requests finish first (up to 30 s).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
