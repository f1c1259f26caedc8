//! Builds the actix application: per-worker state ([`AppState`]), the layers in their order,
//! routes; binds and runs it. It wires, it does not decide: each layer is its own module
//! ([`crate::http`], [`crate::idempotency`]), and every error is [`crate::error`]'s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::middleware::ErrorHandlers;
use actix_web::{web, App};
use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::auth::token::TokenKeys;
use crate::config::{BodyBudgetSettings, CorsOrigins, NotifySettings, TrustedProxies};
use crate::db::{self, PoolSettings};
use crate::http::body_budget::BodyBudget;
use crate::http::connection::{self, Connection};
use crate::http::public_cache::PublicReadSettings;
use crate::http::public_reads::PublicReads;
use crate::http::request::MAX_BODY_BYTES;
use crate::state::AppState;
use crate::store::login_limits::LoginLimits;
use crate::store::reference;

/// Registers the state, body limit, error rendering and routes on an actix `ServiceConfig`.
pub fn configure_app(state: web::Data<AppState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .configure(crate::routes::configure)
            .configure(crate::portal::configure);
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
    /// Origins whose pages may also write (`PLENARY_CORS_ORIGINS`, [`crate::http::cors`]).
    pub cors_origins: CorsOrigins,
    /// Longest time to receive a request body (`PLENARY_BODY_TIMEOUT_SECS`), then 408.
    pub body_timeout: Duration,
    /// Days a focal-point invitation code stays valid.
    pub invitation_ttl_days: i64,
    /// The cache of public reads and the read replica.
    pub public_reads: PublicReadSettings,
    /// The budget of request bodies in flight (`PLENARY_BODY_BUDGET_*`).
    pub body_budget: BodyBudgetSettings,
    /// E-mail and webhooks (`PLENARY_SMTP_URL`, ...).
    pub notify: NotifySettings,
    /// Where `.eml` files go without `PLENARY_SMTP_URL` (`mail/` of the data folder).
    pub mail_dir: PathBuf,
}

/// A built server, bound and ready to run.
pub struct Application {
    server: Server,
    port: u16,
    /// Held while the application lives: the sender stops once it is dropped.
    alive: Arc<()>,
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
            cors_origins,
            body_timeout,
            invitation_ttl_days,
            public_reads,
            body_budget,
            notify,
            mail_dir,
        } = options;
        let invitation_codes_in_response = notify.invitation_codes_in_response;
        let webhook_allow_private = notify.webhook_allow_private;
        let body_budget = BodyBudget::start(body_budget);
        let trusted_proxies = Arc::new(trusted_proxies);
        let cors_origins = Arc::new(cors_origins);
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
        crate::store::watcher::spawn_watcher(database_url.to_string(), &public.freshness);
        crate::http::public_reads::spawn_reporter(&public);
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
                    invitation_codes_in_response,
                    webhook_allow_private,
                    public_url: notify.public_url.clone(),
                    read_pool: public_reads
                        .read_url
                        .as_deref()
                        .map(|url| db::build_pool(url, &per_worker))
                        .transpose()?,
                    public: public.clone(),
                    fills: Arc::new(tokio::sync::Semaphore::new(
                        per_worker.max_size.saturating_sub(1).max(1),
                    )),
                }))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let next_state = Arc::new(AtomicUsize::new(0));
        let listener =
            connection::listen(bind_addr).with_context(|| format!("binding {bind_addr}"))?;
        let local_addr = listener.local_addr()?;
        let port = local_addr.port();
        // The instance's sender of e-mails and webhook deliveries (src/notify).
        let alive = Arc::new(());
        let public_url = notify.public_url.clone().unwrap_or_else(|| {
            let host = bind_addr.rsplit_once(':').map_or(bind_addr, |(h, _)| h);
            format!("http://{host}:{port}")
        });
        crate::notify::spawn_sender(
            database_url.to_string(),
            crate::notify::SenderConfig {
                settings: notify,
                mail_dir,
                public_url,
            },
            Arc::downgrade(&alive),
        )?;
        // actix-web's `HttpServer`, assembled from its parts with its defaults (keep-alive 5 s,
        // 5 s for a request's head, 1 s of linger after an early answer, half-closed reads
        // allowed), so that an accepted connection can drop the rest of a refused body without
        // holding it (crate::http::connection). No `Host` header: URLs name `localhost:8080`
        // (actix-web's `AppConfig` default; HttpServer named the bound address).
        let builder = actix_server::Server::build();
        let shutdown = builder.graceful_shutdown_signal();
        let factory = move || {
            // Called once per worker, on that worker's thread (again if a worker restarts,
            // which then shares a pool: correct, only slower).
            let state = states[next_state.fetch_add(1, Ordering::Relaxed) % states.len()].clone();
            // Innermost first: the Idempotency-Key layer, inside the body deadline (which bounds
            // its body reads too), inside the error rewriting (so that every error, the
            // layers' own included, leaves as problem+json), inside CORS (so that error answers
            // to reads carry its headers too).
            let app = App::new()
                // What the body budget's layer reads (it knows no AppState).
                .app_data(web::Data::from(body_budget.clone()))
                .app_data(web::Data::from(trusted_proxies.clone()))
                // What CORS reads: the origins whose pages may write.
                .app_data(web::Data::from(cors_origins.clone()))
                .wrap(actix_web::middleware::from_fn(
                    crate::idempotency::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::deadline::body_deadline,
                ))
                // Outside every body reader: a body is reserved before it is read, or refused.
                .wrap(actix_web::middleware::from_fn(
                    crate::http::body_budget::middleware,
                ))
                .wrap(ErrorHandlers::new().default_handler(crate::http::problems::problemize))
                // Public reads: cache, replica or primary; and this instance's writes known
                // at once. Inside CORS, which adds its headers to cached answers too.
                .wrap(actix_web::middleware::from_fn(
                    crate::http::public_cache::middleware,
                ))
                // CORS outside the error rendering, so that error answers to reads carry it too.
                .wrap(crate::http::cors::policy())
                .wrap(actix_web::middleware::from_fn(crate::http::cors::finish))
                // The portal's errors as pages, whichever layer answered them.
                .wrap(actix_web::middleware::from_fn(
                    crate::portal::errors::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::head::head_as_get,
                ))
                .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::RootSpan>::new())
                .configure(configure_app(state));
            let shutdown = shutdown.clone();
            let http = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .keep_alive(actix_http::KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(local_addr)
                // A refusal can switch its connection to discarding (crate::http::connection).
                .on_connect_ext(|io: &Connection, data: &mut actix_http::Extensions| {
                    data.insert(io.discard());
                })
                .finish(map_config(
                    app.into_factory().map_err(|e| e.error_response()),
                    |_| AppConfig::default(),
                ));
            fn_service(|io: tokio::net::TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok::<_, actix_http::error::DispatchError>((
                    Connection::new(io),
                    actix_http::Protocol::Http1,
                    peer,
                ))
            })
            .and_then(http)
        };
        let server = builder
            .workers(workers)
            .shutdown_timeout(30)
            .listen("plenary", listener, factory)?
            .run();
        Ok(Self {
            server,
            port,
            alive,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM; in-flight requests finish first (up to 30 s).
    pub async fn run(self) -> std::io::Result<()> {
        let _alive = self.alive;
        self.server.await
    }
}
