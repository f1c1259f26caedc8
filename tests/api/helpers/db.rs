//! The test databases. The database server is `DATABASE_URL` when set, else Plenary's own
//! embedded cluster under `$TMPDIR/plenary-test-cluster` (started on first use and left
//! running for the next run). A template database is migrated once per migration set; each
//! test clones it (`CREATE DATABASE ... TEMPLATE`), so tests are isolated and run in parallel.

use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use plenary_embedded_pg::{EmbeddedError, EmbeddedPostgres};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
