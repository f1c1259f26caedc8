//! Failure behaviour: database outages answer 503 quickly and heal by themselves; two
//! instances over one database behave as one; serialization failures are retried; start-up
//! refuses a short JWT secret; SIGTERM exits cleanly.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::task::JoinHandle;

use crate::helpers::{fresh_database, spawn_app, start_server, status_json, test_options};

/// Where the real database listens.
enum Upstream {
    Tcp(String),
    Unix(String),
}

/// A TCP proxy in front of PostgreSQL that a test can cut and restore.
struct Proxy {
    port: u16,
    upstream: Arc<Upstream>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: Upstream, port: u16) -> Self {
        let mut p = Proxy {
            port,
            upstream: Arc::new(upstream),
            tasks: Arc::new(Mutex::new(Vec::new())),
            accept: None,
        };
        p.open().await;
        p
    }

    async fn open(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind proxy");
        self.port = listener.local_addr().expect("addr").port();
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let handle = tokio::spawn(async move {
                    match &*upstream {
                        Upstream::Tcp(addr) => {
                            if let Ok(mut server) = TcpStream::connect(addr).await {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        }
                        Upstream::Unix(path) => {
                            if let Ok(mut server) = UnixStream::connect(path).await {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        }
                    }
                });
                if let Ok(mut t) = tasks.lock() {
                    t.push(handle);
                }
            }
        }));
    }

    /// Refuses new connections and breaks the existing ones.
    fn cut(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
    }
}

/// The proxy's upstream and a connection string through the proxy for database `url`.
fn via_proxy(url: &str, port: u16) -> (Upstream, String) {
    if url.starts_with("postgres") {
        // postgres://user[:pw]@host:port/db?...
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
        let (auth, hostpath) = rest.split_once('@').unwrap_or(("", rest));
        let (hostport, path) = hostpath.split_once('/').unwrap_or((hostpath, ""));
        let hostport = if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:5432")
        };
        let scheme = url.split("://").next().unwrap_or("postgres");
        let proxied = format!("{scheme}://{auth}@127.0.0.1:{port}/{path}");
        (Upstream::Tcp(hostport), proxied)
    } else {
        let get = |k: &str| {
            url.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")).map(str::to_string))
                .unwrap_or_default()
        };
        let socket = format!("{}/.s.PGSQL.{}", get("host"), get("port"));
        let proxied = format!(
            "host=127.0.0.1 port={port} user={} dbname={}",
            get("user"),
            get("dbname")
        );
        (Upstream::Unix(socket), proxied)
    }
}

#[actix_web::test]
async fn a_database_outage_is_a_quick_503_and_heals_by_itself() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let (upstream, _) = via_proxy(&url, 0);
    let mut proxy = Proxy::start(upstream, 0).await;
    let (_, proxied) = via_proxy(&url, proxy.port);
    let address = start_server(&proxied, test_options()).await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{address}{path}")).send();
    assert_eq!(
        get("/health/ready").await.expect("ready").status().as_u16(),
        200
    );
    assert_eq!(
        get("/api/v1/countries/KH")
            .await
            .expect("get")
            .status()
            .as_u16(),
        200
    );

    proxy.cut();
    for path in [
        "/health/ready",
        "/api/v1/countries/KH",
        "/api/v1/conferences",
    ] {
        let started = Instant::now();
        let r = get(path).await.expect("request");
        let elapsed = started.elapsed();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert_eq!(status, 503, "{path}");
        assert_eq!(ct, "application/problem+json");
        assert!(
            elapsed < Duration::from_millis(2500),
            "{path} took {elapsed:?}"
        );
    }
    // /health/live does not need the database.
    assert_eq!(
        get("/health/live").await.expect("live").status().as_u16(),
        200
    );

    proxy.open().await;
    let mut healed = false;
    for _ in 0..50 {
        if get("/health/ready")
            .await
            .map(|r| r.status().as_u16() == 200)
            .unwrap_or(false)
        {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healed, "the server did not recover without a restart");
    assert_eq!(
        get("/api/v1/countries/KH")
            .await
            .expect("get")
            .status()
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn two_instances_over_one_database_behave_as_one() {
    let app = spawn_app().await;
    let second = start_server(&app.db_url, test_options()).await;
    let o = app.organiser("two@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    // Uniqueness: 8 simultaneous POSTs spread over both instances.
    let futures = (0..8).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            second.clone()
        };
        let req = app
            .client
            .post(format!("{base}/api/v1/conferences/{cid}/delegations"))
            .bearer_auth(&o.token)
            .json(&json!({"country": "TL"}));
        async move { status_json(req.send().await.expect("send")).await.0 }
    });
    let statuses = futures::future::join_all(futures).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    // Idempotency: the retry on the other instance replays.
    let body = json!({"name": "Shared Key Org", "kind": "other"});
    let first = app
        .client
        .post(format!("{}/api/v1/organisations", app.address))
        .bearer_auth(&o.token)
        .header("idempotency-key", "shared")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(first.status().as_u16(), 201);
    let retry = app
        .client
        .post(format!("{second}/api/v1/organisations"))
        .bearer_auth(&o.token)
        .header("idempotency-key", "shared")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(retry.status().as_u16(), 201);
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    // Rate limits: failures on one instance count on the other.
    let wrong = json!({"email": "two@example.org", "password": "wrong password!!"});
    for i in 0..5 {
        let base = if i % 2 == 0 { &app.address } else { &second };
        let r = app
            .client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&wrong)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = app
        .client
        .post(format!("{second}/api/v1/auth/token"))
        .json(&wrong)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 429);
}

#[actix_web::test]
async fn serialization_failures_are_retried_not_surfaced() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let db = fresh_database().await;
    let url = db.url.clone();
    let mut setup = AsyncPgConnection::establish(&url).await.expect("connect");
    diesel::sql_query("CREATE TABLE counter (n integer NOT NULL)")
        .execute(&mut setup)
        .await
        .expect("create");
    diesel::sql_query("INSERT INTO counter VALUES (0)")
        .execute(&mut setup)
        .await
        .expect("insert");
    // Ten concurrent SERIALIZABLE read-modify-write transactions conflict with each other;
    // The store's retry (write::retrying, which every audited write uses) must retry every
    // serialization failure until each one commits.
    let tasks = (0..10).map(|_| {
        let url = url.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
            let conn = &mut conn;
            let r = plenary::store::write::retrying(async || {
                conn.build_transaction()
                    .serializable()
                    .run::<_, plenary::store::StoreError, _>(async |c| {
                        #[derive(diesel::QueryableByName)]
                        struct N {
                            #[diesel(sql_type = diesel::sql_types::Integer)]
                            n: i32,
                        }
                        let rows: Vec<N> =
                            diesel::sql_query("SELECT n FROM counter").load(c).await?;
                        let n = rows.into_iter().next().map(|r| r.n).unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        diesel::sql_query(format!("UPDATE counter SET n = {}", n + 1))
                            .execute(c)
                            .await?;
                        Ok(())
                    })
                    .await
            })
            .await;
            r.is_ok()
        }
    });
    let results = futures::future::join_all(tasks).await;
    let ok = results.iter().filter(|r| **r).count();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
    }
    let rows: Vec<N> = diesel::sql_query("SELECT n FROM counter")
        .load(&mut setup)
        .await
        .expect("read");
    let n = rows.into_iter().next().map(|r| r.n).unwrap_or(-1);
    assert_eq!(n as usize, ok, "every committed transaction counted once");
    assert!(ok == 10, "retries let all of them commit: {ok}/10");
}

#[actix_web::test]
async fn serve_refuses_a_short_jwt_secret() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plenary"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("PLENARY_JWT_SECRET", "too-short")
        .output()
        .expect("run plenary");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plenary"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env_remove("PLENARY_JWT_SECRET")
        .output()
        .expect("run plenary");
    assert!(!out.status.success());
}

#[actix_web::test]
async fn sigterm_finishes_and_exits_cleanly() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_plenary"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PLENARY_JWT_SECRET", crate::helpers::SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("http://127.0.0.1:{port}/health/live"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");
    // A request in flight when SIGTERM arrives still gets its answer.
    let in_flight = client
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/countries?limit=200"
        ))
        .send();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let (r, _) = tokio::join!(in_flight, async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    });
    assert_eq!(r.map(|r| r.status().as_u16()).unwrap_or(0), 200);
    let mut exited = None;
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(exited.is_some_and(|s| s.success()), "{exited:?}");
}
