//! `spawn_app()`: a Plenary server on port 0 over a fresh PostgreSQL database per test (see
//! [`super::db`]), the organisers and focal points of a test, and its fixtures.

use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use plenary::auth::token::TokenKeys;
use plenary::db::PoolSettings;
use plenary::startup::{Application, Options};
use plenary::store::login_limits::LoginLimits;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::client::{status_json, Client, Response};
use super::db::{fresh_database, TestDb};

/// The JWT secret of every test server.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// The password of every organiser created by tests.
pub const PASSWORD: &str = "correct horse battery staple";
/// The Lianyungang conference's id in `data/lianyungang-2025.json`.
pub const LIANYUNGANG: &str = "019954f8-9000-7a00-8000-17a9f0c0e000";
/// The id of the 2023 Beijing forum in `data/beijing-2023.json`.
pub const BEIJING: &str = "0188f500-0800-7a00-8000-b3141a9f0c00";

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
    /// Where the server writes its e-mails (`.eml` files).
    pub mail_dir: std::path::PathBuf,
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
        cors_origins: Default::default(),
        body_timeout: std::time::Duration::from_secs(10),
        invitation_ttl_days: 14,
        public_reads: Default::default(),
        body_budget: Default::default(),
        notify: plenary::config::NotifySettings {
            webhook_allow_private: true,
            retry_base: std::time::Duration::from_millis(200),
            ..Default::default()
        },
        mail_dir: std::env::temp_dir().join(format!("plenary-test-mail-{}", Uuid::now_v7())),
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
    let mail_dir = options.mail_dir.clone();
    let address = start_server(&db_url, options).await;
    TestApp {
        address,
        db_url,
        _db: db,
        client: Client::new(),
        tokens,
        mail_dir,
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
            mail_dir: test_options().mail_dir,
        }
    }

    /// Waits for the `count`th e-mail of `kind` to `address` and returns them all
    /// ([`super::mail::wait_for`]).
    pub async fn mails(&self, address: &str, kind: &str, count: usize) -> Vec<super::mail::Mail> {
        super::mail::wait_for(&self.mail_dir, address, kind, count).await
    }

    /// The code of the latest invitation e-mail to `address` (Message-IDs are UUID v7s, which
    /// sort by time).
    pub async fn invitation_code(&self, address: &str) -> String {
        let mails = self.mails(address, "invitation", 1).await;
        let newest = mails
            .iter()
            .max_by_key(|m| m.header("message-id").map(str::to_string))
            .map(super::mail::Mail::code)
            .unwrap_or_default();
        newest
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

    /// A `nomination_decided` e-mail to `to` of conference `conference_id` that failed (what an
    /// organiser may resend), inserted into the outbox; its id.
    pub async fn failed_email(&self, conference_id: Uuid, to: &str) -> Uuid {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use plenary::db::schema::outbox;
        let id = Uuid::now_v7();
        let mut conn = self.conn().await;
        diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(id),
                outbox::channel.eq("email"),
                outbox::kind.eq("nomination_decided"),
                outbox::conference_id.eq(Some(conference_id)),
                outbox::recipient.eq(to),
                outbox::payload.eq(serde_json::json!({})),
                outbox::status.eq("failed"),
            ))
            .execute(&mut conn)
            .await
            .expect("insert a failed e-mail");
        id
    }

    /// GET, returning status, headers and the body as text (pages, files).
    pub async fn get_text(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self.request(Method::GET, path, token, None).await;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap_or_default())
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

/// The `id` of a created resource, as text (empty when there is none).
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

/// A conference of a test with its delegations and their focal points, built by
/// [`TestApp::fixture`]: `app.fixture().delegation("KH").focal_point("fp@example.org")`.
pub struct Fixture {
    /// The conference's owner.
    pub owner: Organiser,
    /// The conference's id.
    pub conference: String,
    /// The delegations' ids, in the order they were added.
    pub delegations: Vec<String>,
    /// The focal points, in the order they were added.
    pub focal_points: Vec<Organiser>,
}

/// What a [`Fixture`] is made of, before [`FixtureBuilder::build`] makes it.
pub struct FixtureBuilder<'a> {
    app: &'a TestApp,
    /// The owner, when given; else a new organiser `owner_email`.
    owner: Option<Organiser>,
    owner_email: String,
    delegations: Vec<String>,
    focal_points: Vec<(String, usize)>,
}

impl TestApp {
    /// A published conference ([`TestApp::conference`]) of a new organiser
    /// `owner@example.org`, to which delegations and focal points are added.
    pub fn fixture(&self) -> FixtureBuilder<'_> {
        FixtureBuilder {
            app: self,
            owner: None,
            owner_email: "owner@example.org".to_string(),
            delegations: Vec::new(),
            focal_points: Vec::new(),
        }
    }
}

impl Fixture {
    /// The `i`th delegation's path, `/api/v1/conferences/{c}/delegations/{d}`.
    pub fn delegation_path(&self, i: usize) -> String {
        format!(
            "/api/v1/conferences/{}/delegations/{}",
            self.conference, self.delegations[i]
        )
    }

    /// The conference's id as a UUID.
    pub fn conference_id(&self) -> Uuid {
        Uuid::parse_str(&self.conference).expect("a UUID id")
    }

    /// The `i`th delegation's id as a UUID.
    pub fn delegation_id(&self, i: usize) -> Uuid {
        Uuid::parse_str(&self.delegations[i]).expect("a UUID id")
    }
}

impl FixtureBuilder<'_> {
    /// The conference's owner is `owner`, already created.
    pub fn owner(self, owner: &Organiser) -> Self {
        Self {
            owner: Some(owner.clone()),
            ..self
        }
    }

    /// The conference's owner is a new organiser `email`.
    pub fn owner_email(self, email: &str) -> Self {
        Self {
            owner_email: email.to_string(),
            ..self
        }
    }

    /// A delegation of `country` (a code, name or alias).
    pub fn delegation(mut self, country: &str) -> Self {
        self.delegations.push(country.to_string());
        self
    }

    /// An active focal point `email` of the last delegation added ([`TestApp::focal_point`]).
    pub fn focal_point(mut self, email: &str) -> Self {
        let delegation = self.delegations.len().checked_sub(1).expect("a delegation");
        self.focal_points.push((email.to_string(), delegation));
        self
    }

    /// Makes the owner, the conference, its delegations and then their focal points.
    pub async fn build(self) -> Fixture {
        let app = self.app;
        let owner = match self.owner {
            Some(owner) => owner,
            None => app.organiser(&self.owner_email, false).await,
        };
        let conference = id(&app.conference(&owner, "published").await);
        let mut delegations = Vec::new();
        for country in &self.delegations {
            let (s, d) = app
                .post(
                    &format!("/api/v1/conferences/{conference}/delegations"),
                    Some(&owner.token),
                    &serde_json::json!({ "country": country }),
                )
                .await;
            assert_eq!(s, 201, "{d}");
            delegations.push(id(&d));
        }
        let mut fixture = Fixture {
            owner,
            conference,
            delegations,
            focal_points: Vec::new(),
        };
        for (email, i) in &self.focal_points {
            let fp = app
                .focal_point(email, fixture.conference_id(), fixture.delegation_id(*i))
                .await;
            fixture.focal_points.push(fp);
        }
        fixture
    }
}
