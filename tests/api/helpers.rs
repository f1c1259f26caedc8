//! `spawn_app()`: a Plenary server on port 0 over a fresh PostgreSQL database per test.
//!
//! The database server is `DATABASE_URL` when set, else Plenary's own embedded cluster under
//! `$TMPDIR/plenary-test-cluster` (started on first use and left running for the next run).
//! A template database is migrated once per migration set; each test clones it
//! (`CREATE DATABASE ... TEMPLATE`), so tests are isolated and run in parallel.
//!
//! Every request goes through [`Client`], which checks each response against
//! `api-spec/openapi.yaml` (see `contract.rs`) and panics when it does not conform: a handler
//! change that the spec does not reflect fails the test that exercises it.

use std::sync::{Arc, Mutex, OnceLock};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use plenary::auth::token::TokenKeys;
use plenary::db::PoolSettings;
use plenary::startup::{Application, Options};
use plenary::store::login_limits::LoginLimits;
use plenary_embedded_pg::{EmbeddedError, EmbeddedPostgres};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The JWT secret of every test server.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// The password of every organiser created by tests.
pub const PASSWORD: &str = "correct horse battery staple";
/// The Lianyungang conference's id in `data/lianyungang-2025.json`.
pub const LIANYUNGANG: &str = "019954f8-9000-7a00-8000-17a9f0c0e000";
/// The id of the 2023 Beijing forum in `data/beijing-2023.json`.
pub const BEIJING: &str = "0188f500-0800-7a00-8000-b3141a9f0c00";

/// Where the test databases live.
struct Server {
    /// Connection string of a maintenance database on the server.
    admin: String,
    /// Builds the connection string of database `name`.
    embedded: Option<EmbeddedPostgres>,
    url: Option<String>,
}

impl Server {
    fn url_for(&self, db: &str) -> String {
        match (&self.embedded, &self.url) {
            (Some(pg), _) => pg.connection_string(db),
            (None, Some(url)) => with_dbname(url, db),
            (None, None) => String::new(),
        }
    }
}

/// Replaces the database of a `postgres://` URL or a `key=value` string.
fn with_dbname(url: &str, db: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
        let host_part = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => base,
        };
        match query {
            Some(q) => format!("{host_part}/{db}?{q}"),
            None => format!("{host_part}/{db}"),
        }
    } else {
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={db}", kept.join(" "))
    }
}

/// Where the test cluster goes when the temporary folder is closed to the `postgres` user.
const TEST_CLUSTER_FALLBACK: &str = "/var/tmp/plenary-test-cluster";

fn start_test_cluster(dir: &std::path::Path) -> EmbeddedPostgres {
    EmbeddedPostgres::start(dir).unwrap_or_else(|e| {
        panic!(
            "starting the test PostgreSQL in {}: {e} (the tests read PLENARY_TEST_DATA_DIR, \
             or DATABASE_URL)",
            dir.display()
        )
    })
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Server {
            admin: url.clone(),
            embedded: None,
            url: Some(url),
        },
        _ => {
            let pg = match std::env::var("PLENARY_TEST_DATA_DIR") {
                Ok(dir) => start_test_cluster(std::path::Path::new(&dir)),
                Err(_) => {
                    let dir = std::env::temp_dir().join("plenary-test-cluster");
                    match EmbeddedPostgres::start(&dir) {
                        Ok(pg) => pg,
                        // As root, the server runs as `postgres`, which may not enter a
                        // private TMPDIR (mode 0700, as `mktemp -d` makes): use /var/tmp
                        // (world-traversable) rather than fail.
                        Err(EmbeddedError::DataDirNotAccessible { blocked, .. }) => {
                            let fallback = std::path::Path::new(TEST_CLUSTER_FALLBACK);
                            eprintln!(
                                "note: the postgres user cannot enter {}; the test cluster \
                                 is in {} instead (set PLENARY_TEST_DATA_DIR to choose)",
                                blocked.display(),
                                fallback.display()
                            );
                            start_test_cluster(fallback)
                        }
                        Err(e) => panic!(
                            "starting the test PostgreSQL in {}: {e} (the tests read \
                             PLENARY_TEST_DATA_DIR, or DATABASE_URL)",
                            dir.display()
                        ),
                    }
                }
            };
            Server {
                admin: pg.connection_string("plenary"),
                embedded: Some(pg),
                url: None,
            }
        }
    })
}

/// A fingerprint of the migrations: a new migration set gets a new template.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for e in entries {
        hasher.update(e.display().to_string());
        hasher.update(std::fs::read(e.join("up.sql")).unwrap_or_default());
    }
    hasher.update(env!("CARGO_PKG_VERSION"));
    let digest = hex::encode(hasher.finalize());
    format!("plenary_tpl_{}", &digest[..16])
}

async fn admin_conn() -> AsyncPgConnection {
    let s = server();
    AsyncPgConnection::establish(&s.admin)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"))
}

async fn exists(conn: &mut AsyncPgConnection, db: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<diesel::sql_types::Text, _>(db)
            .load(conn)
            .await
            .expect("query pg_database");
    <[_]>::first(&rows).map(|r| r.n).unwrap_or(0) > 0
}

/// A test database, dropped when this guard goes out of scope.
pub struct TestDb {
    /// Connection string.
    pub url: String,
    name: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop_database(self.name.clone());
    }
}

/// Drops test databases older than an hour (left by a test process that was killed), once per
/// process.
async fn sweep_stale(conn: &mut AsyncPgConnection, now: u64) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'plenary\\_test\\_%'",
    )
    .load(conn)
    .await
    .unwrap_or_default();
    for n in names {
        let created = n
            .datname
            .split('_')
            .nth(2)
            .and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|c| c + 3600 < now) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                n.datname
            ))
            .execute(conn)
            .await;
        }
    }
}

/// Creates a fresh database cloned from the migrated template (dropped with the guard).
pub async fn fresh_database() -> TestDb {
    let s = server();
    let template = template_name();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = format!(
        "plenary_test_{now}_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    let mut conn = admin_conn().await;
    diesel::sql_query("SELECT pg_advisory_lock(7346)")
        .execute(&mut conn)
        .await
        .expect("lock");
    sweep_stale(&mut conn, now).await;
    if !exists(&mut conn, &template).await {
        let building = format!("{template}_build");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop stale template");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .expect("create template");
        plenary::store::reference::migrate(&s.url_for(&building))
            .await
            .expect("migrate template");
        let mut tries = 0;
        while let Err(e) =
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
                .execute(&mut conn)
                .await
        {
            tries += 1;
            assert!(tries < 50, "rename template: {e}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let mut attempt = 0;
    loop {
        let r = diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await;
        match r {
            Ok(_) => break,
            Err(e) if attempt < 20 => {
                attempt += 1;
                eprintln!("retrying CREATE DATABASE: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("CREATE DATABASE: {e}"),
        }
    }
    diesel::sql_query("SELECT pg_advisory_unlock(7346)")
        .execute(&mut conn)
        .await
        .expect("unlock");
    TestDb {
        url: s.url_for(&name),
        name,
    }
}

/// Drops a test database from a separate thread (used from `Drop`).
fn drop_database(name: String) {
    let admin = server().admin.clone();
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async move {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin).await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        }
    })
    .join();
}

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The test database's connection string.
    pub db_url: String,
    _db: TestDb,
    /// HTTP client whose every response is checked against the spec.
    pub client: Client,
    /// Token keys of the server.
    pub tokens: TokenKeys,
}

/// An organiser created for a test.
#[derive(Debug, Clone)]
pub struct Organiser {
    /// Id.
    pub id: Uuid,
    /// A valid access token.
    pub token: String,
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        plenary::auth::password::hash(&secrecy::SecretString::from(PASSWORD.to_string()))
            .expect("hash")
    })
}

/// The options of a test server.
pub fn test_options() -> Options {
    Options {
        tokens: TokenKeys::new(SECRET.as_bytes()).expect("keys"),
        pool: PoolSettings {
            max_size: 8,
            timeout: std::time::Duration::from_secs(2),
        },
        workers: Some(1),
        login_limits: LoginLimits::default(),
        trusted_proxies: Default::default(),
        body_timeout: std::time::Duration::from_secs(10),
        invitation_ttl_days: 14,
        public_reads: Default::default(),
    }
}

/// Starts a server on port 0 over a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_options()).await
}

/// Starts a server on port 0 over `db_url` and returns its address.
pub async fn start_server(db_url: &str, options: Options) -> String {
    let app = Application::build(db_url, "127.0.0.1:0", options)
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run());
    address
}

/// Starts a server with `options` over a fresh database.
pub async fn spawn_app_with(options: Options) -> TestApp {
    let db = fresh_database().await;
    let db_url = db.url.clone();
    let tokens = options.tokens.clone();
    let address = start_server(&db_url, options).await;
    TestApp {
        address,
        db_url,
        _db: db,
        client: Client::new(),
        tokens,
    }
}

impl TestApp {
    /// The app of a server at `address` (started with [`test_options`]' keys) over `db`.
    pub fn on(address: String, db: TestDb) -> TestApp {
        TestApp {
            address,
            db_url: db.url.clone(),
            _db: db,
            client: Client::new(),
            tokens: TokenKeys::new(SECRET.as_bytes()).expect("keys"),
        }
    }

    /// A database connection to the test database.
    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db_url)
            .await
            .expect("connect")
    }

    /// Creates an organiser with [`PASSWORD`] and returns it with a token.
    pub async fn organiser(&self, email: &str, admin: bool) -> Organiser {
        let mut conn = self.conn().await;
        let o = plenary::store::organisers::create(
            &mut conn,
            email,
            "Test Organiser",
            password_hash(),
            admin,
            true,
        )
        .await
        .expect("create organiser");
        let token = self.tokens.issue(o.id).expect("token");
        Organiser { id: o.id, token }
    }

    /// Creates an account without the organiser grant (as accepting an invitation does),
    /// with [`PASSWORD`], made the active focal point of `delegation_id` directly in the
    /// database (the invitation flow itself is tested in `accreditation`), with a token.
    pub async fn focal_point(
        &self,
        email: &str,
        conference_id: Uuid,
        delegation_id: Uuid,
    ) -> Organiser {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use plenary::db::schema::focal_points;
        let mut conn = self.conn().await;
        let o = plenary::store::organisers::create(
            &mut conn,
            email,
            "Test Focal Point",
            password_hash(),
            false,
            false,
        )
        .await
        .expect("create focal point account");
        diesel::insert_into(focal_points::table)
            .values((
                focal_points::id.eq(Uuid::now_v7()),
                focal_points::conference_id.eq(conference_id),
                focal_points::delegation_id.eq(delegation_id),
                focal_points::email.eq(email),
                focal_points::name.eq("Test Focal Point"),
                focal_points::code_hash.eq(Uuid::now_v7().to_string()),
                focal_points::expires_at.eq(diesel::dsl::now),
                focal_points::organiser_id.eq(Some(o.id)),
                focal_points::accepted_at.eq(Some(chrono::Utc::now())),
            ))
            .execute(&mut conn)
            .await
            .expect("insert focal point");
        let token = self.tokens.issue(o.id).expect("token");
        Organiser { id: o.id, token }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().await.expect("request")
    }

    /// GET, returning status and JSON body (Null when empty).
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let r = self.request(Method::GET, path, token, None).await;
        status_json(r).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let r = self.request(Method::POST, path, token, Some(body)).await;
        status_json(r).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let r = self.request(Method::PUT, path, token, Some(body)).await;
        status_json(r).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let r = self.request(Method::PATCH, path, token, Some(body)).await;
        status_json(r).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let r = self.request(Method::DELETE, path, token, None).await;
        status_json(r).await
    }

    /// Creates a conference owned by `owner` (published unless `status` says otherwise).
    pub async fn conference(&self, owner: &Organiser, status: &str) -> Value {
        let (code, body) = self
            .post(
                "/api/v1/conferences",
                Some(&owner.token),
                &serde_json::json!({
                    "title": "Test Conference",
                    "status": status,
                    "start_date": "2025-09-17",
                    "end_date": "2025-09-18",
                    "time_zone": "Asia/Shanghai",
                    "venue": {"city": "Lianyungang", "region": "Jiangsu", "country": "CN"}
                }),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        body
    }

    /// Imports every document of `data/` into the test database.
    pub async fn import_data(&self) {
        let mut conn = self.conn().await;
        let countries = plenary::store::reference::country_index(&mut conn)
            .await
            .expect("countries");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        for file in plenary::import::documents_in(&dir).expect("data/") {
            plenary::import::import_file(&mut conn, &countries, &file, None)
                .await
                .unwrap_or_else(|e| panic!("import {}: {e:#}", file.display()));
        }
    }
}

/// Status and JSON body of a response (Null when the body is empty or not JSON).
pub async fn status_json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

/// An HTTP client for the test server that checks every response against the spec. It does
/// not follow redirects, so that each response is checked as the server sent it.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    log: Arc<Mutex<Vec<(String, String, u16)>>>,
}

impl Client {
    /// A client with no redirects.
    pub fn new() -> Self {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self {
            inner,
            log: Arc::default(),
        }
    }

    /// Every exchange so far, as (`METHOD`, path, status).
    pub fn log(&self) -> Vec<(String, String, u16)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// A request with `method` to `url`.
    pub fn request(&self, method: Method, url: impl reqwest::IntoUrl) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            inner: self.inner.request(method, url),
        }
    }

    /// A GET request.
    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request.
    pub fn post(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A checked PATCH.
    pub fn patch(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A checked PUT.
    pub fn put(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A checked DELETE.
    pub fn delete(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// A request being built; [`RequestBuilder::send`] checks the response against the spec.
pub struct RequestBuilder {
    client: Client,
    inner: reqwest::RequestBuilder,
}

impl RequestBuilder {
    /// `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        Self {
            inner: self.inner.bearer_auth(token),
            ..self
        }
    }

    /// Adds a header.
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        Self {
            inner: self.inner.header(name, value.as_ref()),
            ..self
        }
    }

    /// Adds query parameters.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        Self {
            inner: self.inner.query(query),
            ..self
        }
    }

    /// A raw body.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Self {
            inner: self.inner.body(body),
            ..self
        }
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Self {
        Self {
            inner: self.inner.json(body),
            ..self
        }
    }

    /// Sends the request and checks the response against `api-spec/openapi.yaml`.
    ///
    /// Panics when the response does not conform to the spec, saying how.
    pub async fn send(self) -> Result<Response, reqwest::Error> {
        let request = self.inner.build()?;
        let method = request.method().to_string();
        let path = request.url().path().to_string();
        let query = request.url().query().map(str::to_string);
        let request_content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request_body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec);
        let r = reqwest::Client::execute(&self.client.inner, request).await?;
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await?.to_vec();
        let exchange = crate::contract::Exchange {
            method: &method,
            path: &path,
            query: query.as_deref(),
            request_content_type: request_content_type.as_deref(),
            request_body: request_body.as_deref(),
            status: status.as_u16(),
            headers: &headers,
            body: &body,
        };
        if let Err(e) = crate::contract::spec().check(&exchange) {
            panic!(
                "the response to {method} {path}{} does not conform to api-spec/openapi.yaml:\n{e}\n\
                 response body: {}",
                query.as_deref().map(|q| format!("?{q}")).unwrap_or_default(),
                String::from_utf8_lossy(&body[..body.len().min(2000)])
            );
        }
        if let Ok(mut log) = self.client.log.lock() {
            log.push((method, path, status.as_u16()));
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// A response that conforms to the spec (checked on arrival).
#[derive(Debug)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The raw body (as `reqwest::Response::bytes`).
    pub async fn bytes(self) -> Result<Vec<u8>, std::convert::Infallible> {
        Ok(self.body)
    }

    /// The body as JSON.
    pub async fn json<T: DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    /// The body as text.
    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }
}

/// Asserts that `body` is an RFC 9457 problem with `status` and returns its field names.
pub fn problem_fields(body: &Value, status: u16) -> Vec<String> {
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `EXPLAIN <query>` on `conn`, one line per plan node, joined by newlines.
pub async fn explain(conn: &mut AsyncPgConnection, query: &str) -> String {
    let plan: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN {query}"))
        .load(conn)
        .await
        .expect("explain");
    plan.into_iter()
        .map(|p| p.line)
        .collect::<Vec<_>>()
        .join("\n")
}
