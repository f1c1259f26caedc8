//! Public reads at scale (issue 14): the cache of rendered anonymous reads and its correctness
//! across instances, the read replica's routing and fallback, and `X-Plenary-Source`.

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, start_server, status_json, test_options, TestApp};

/// An anonymous GET: status, `X-Plenary-Source`, `ETag`, JSON body.
async fn read(address: &str, path: &str) -> (u16, String, String, Value) {
    let r = crate::helpers::Client::new()
        .get(format!("{address}{path}"))
        .send()
        .await
        .expect("send");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (source, etag) = (header("x-plenary-source"), header("etag"));
    let (status, body) = status_json(r).await;
    (status, source, etag, body)
}

/// Reads `path` until it is answered from `source` (the instance is sure a moment after
/// start); panics after 5 s.
async fn until_source(address: &str, path: &str, source: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, got, _, body) = read(address, path).await;
        assert_eq!(status, 200, "{body}");
        if got == source {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} never came from {source}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn countries(attendance: &Value) -> Vec<String> {
    attendance["countries"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["country"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn delegation(app: &TestApp, token: &str, cid: &str, country: &str) {
    let (s, body) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(token),
            &json!({"country": country, "status": "attended", "size": 2}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

#[actix_web::test]
async fn anonymous_reads_are_cached_and_the_instances_own_write_shows_at_once() {
    let app = spawn_app().await;
    let o = app.organiser("cache@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    delegation(&app, &o.token, cid, "KH").await;
    let path = format!("/api/v1/conferences/{cid}/attendance");
    let cached = until_source(&app.address, &path, "cache").await;
    assert_eq!(countries(&cached), vec!["KH"]);
    // The cached answer is the database's, byte for byte in meaning, with the same tag.
    let (_, _, etag, again) = read(&app.address, &path).await;
    assert_eq!(again, cached);
    // If-None-Match is answered from the cache: 304 with the tag, no body.
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 304);
    assert_eq!(
        r.headers().get("x-plenary-source").map(|v| v.as_bytes()),
        Some(&b"cache"[..])
    );
    assert_eq!(
        r.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    assert!(r.body().is_empty());
    // CORS still applies to cached answers.
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .header("origin", "https://press.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    // A write is read at once, without waiting for the instance's next question.
    delegation(&app, &o.token, cid, "TH").await;
    let (s, source, new_etag, after) = read(&app.address, &path).await;
    assert_eq!(s, 200);
    assert_ne!(
        source, "cache",
        "the entry older than the write is not served"
    );
    assert_eq!(countries(&after), vec!["KH", "TH"]);
    assert_ne!(new_etag, etag);
    let cached = until_source(&app.address, &path, "cache").await;
    assert_eq!(countries(&cached), vec!["KH", "TH"]);
    // Organisers' reads are never cached nor marked.
    let r = app.request(Method::GET, &path, Some(&o.token), None).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("x-plenary-source").is_none());
}

#[actix_web::test]
async fn a_draft_is_not_cached_for_anyone_and_publishing_it_shows() {
    let app = spawn_app().await;
    let o = app.organiser("draft-cache@example.org", false).await;
    let conf = app.conference(&o, "draft").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/conferences/{cid}/attendance");
    for _ in 0..3 {
        let (s, source, _, _) = read(&app.address, &path).await;
        assert_eq!(s, 404);
        assert_ne!(source, "cache");
    }
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            Some(&o.token),
            &json!({"status": "published"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _, _, _) = read(&app.address, &path).await;
    assert_eq!(s, 200);
}

#[actix_web::test]
async fn a_renamed_organisation_shows_in_cached_attendance() {
    let app = spawn_app().await;
    let o = app.organiser("org-cache@example.org", true).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            Some(&o.token),
            &json!({"name": "Mekong Centre", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let oid = org["id"].as_str().unwrap_or_default();
    let (s, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&o.token),
            &json!({"organisation_id": oid, "status": "attended"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let path = format!("/api/v1/conferences/{cid}/attendance");
    let cached = until_source(&app.address, &path, "cache").await;
    assert!(cached.to_string().contains("Mekong Centre"), "{cached}");
    let (s, _) = app
        .patch(
            &format!("/api/v1/organisations/{oid}"),
            Some(&o.token),
            &json!({"name": "Lancang-Mekong Centre"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, _, _, after) = read(&app.address, &path).await;
    assert!(
        after.to_string().contains("Lancang-Mekong Centre"),
        "{after}"
    );
}

/// Instance A on a fresh database and instance B beside it; a published conference with
/// one delegation (KH) whose attendance B already serves from its cache. Returns A, B's
/// address, the organiser's token, the conference id and the attendance path.
async fn two_instances_and_a_cached_attendance(
    email: &str,
) -> (TestApp, String, String, String, String) {
    let a = spawn_app().await;
    let b_address = start_server(&a.db_url, test_options()).await;
    let o = a.organiser(email, false).await;
    let conf = a.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    delegation(&a, &o.token, &cid, "KH").await;
    let path = format!("/api/v1/conferences/{cid}/attendance");
    until_source(&b_address, &path, "cache").await;
    (a, b_address, o.token, cid, path)
}

/// Reads `path` on `address` until it lists `n` countries, at most 1 s after `acknowledged`,
/// and never fewer than a read before it.
async fn shows_within_a_second(address: &str, path: &str, n: usize, acknowledged: Instant) {
    let mut seen = 0;
    loop {
        let (s, _, _, body) = read(address, path).await;
        assert_eq!(s, 200);
        let now = countries(&body).len();
        assert!(
            now >= seen,
            "{address} went back from {seen} to {now} countries"
        );
        seen = now;
        if now == n {
            return;
        }
        assert!(
            acknowledged.elapsed() < Duration::from_secs(1),
            "{address} still without the write {:?} after it was acknowledged",
            acknowledged.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_web::test]
async fn a_write_on_one_instance_shows_on_the_other_within_a_second() {
    let (a, b_address, token, cid, path) =
        two_instances_and_a_cached_attendance("two@example.org").await;
    for (round, country) in ["TH", "VN", "LA"].into_iter().enumerate() {
        delegation(&a, &token, &cid, country).await;
        shows_within_a_second(&b_address, &path, round + 2, Instant::now()).await;
    }
}

#[actix_web::test]
async fn a_lost_revision_watcher_reconnects_and_misses_nothing() {
    let (a, b_address, token, cid, path) =
        two_instances_and_a_cached_attendance("lost@example.org").await;
    // Every revision watcher of this database loses its connection, then a write lands at
    // once, likely before they are back.
    let mut conn = a.conn().await;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'plenary-revisions'",
    )
    .execute(&mut conn)
    .await
    .expect("terminate the watchers");
    delegation(&a, &token, &cid, "TH").await;
    shows_within_a_second(&b_address, &path, 2, Instant::now()).await;
    // And it comes back to caching.
    let cached = until_source(&b_address, &path, "cache").await;
    assert_eq!(countries(&cached).len(), 2);
}

#[actix_web::test]
async fn a_replica_that_is_down_leaves_reads_on_the_primary() {
    let mut options = test_options();
    options.public_reads.read_url = Some("postgres://plenary@127.0.0.1:1/nothing".into());
    let app = spawn_app_with(options).await;
    let o = app.organiser("down@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/conferences/{cid}/delegations");
    for _ in 0..5 {
        let (s, source, _, body) = read(&app.address, &path).await;
        assert_eq!(s, 200, "{body}");
        assert_ne!(source, "replica");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, source, _, _) = read(&app.address, "/api/v1/countries/KH").await;
    assert_eq!((s, source.as_str()), (200, "primary"));
}

#[actix_web::test]
async fn public_reads_go_to_the_replica_and_organisers_reads_to_the_primary() {
    // A "replica" that is the primary itself (not in recovery: no lag), so that routing is
    // tested here; the scale-out check (scripts/scaleout.py) runs a real streaming replica.
    let db = crate::helpers::fresh_database().await;
    let mut options = test_options();
    options.public_reads.read_url = Some(db.url.clone());
    options.public_reads.cache_bytes = 0;
    let address = start_server(&db.url, options).await;
    let app = TestApp::on(address, db);
    let o = app.organiser("replica@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/conferences/{cid}/attendance");
    until_source(&app.address, &path, "replica").await;
    until_source(&app.address, "/api/v1/countries/KH", "replica").await;
    delegation(&app, &o.token, cid, "KH").await;
    let (_, source, _, body) = read(&app.address, &path).await;
    assert_eq!(source, "replica", "the cache is off");
    assert_eq!(countries(&body), vec!["KH"]);
}

#[actix_web::test]
async fn a_small_cache_still_answers_correctly() {
    let mut options = test_options();
    options.public_reads.cache_bytes = 4096;
    let app = spawn_app_with(options).await;
    let o = app.organiser("small@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    delegation(&app, &o.token, cid, "KH").await;
    // The attendance is over a sixteenth of 4 KiB: never kept, always right.
    let path = format!("/api/v1/conferences/{cid}/attendance");
    for _ in 0..5 {
        let (s, source, _, body) = read(&app.address, &path).await;
        assert_eq!(s, 200);
        assert_eq!(source, "primary");
        assert_eq!(countries(&body), vec!["KH"]);
    }
}

/// An anonymous or authenticated GET: status, `X-Plenary-Source`, body bytes.
async fn raw(address: &str, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut rb = crate::helpers::Client::new().get(format!("{address}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.expect("send");
    let source = r
        .headers()
        .get("x-plenary-source")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status().as_u16(), source, r.body().to_vec())
}

/// Generated from the route table: every read under a conference answers an anonymous caller
/// the same from the cache as from the database, organisers' reads never come from the cache,
/// and once the conference is a draft again no anonymous read of it is 200 (nothing cached
/// outlives the change).
#[actix_web::test]
async fn every_conference_read_is_the_same_cached_and_a_draft_hides_them_all() {
    use crate::security::{fill, routes, world};
    let app = spawn_app().await;
    let o = app.organiser("matrix-cache@example.org", false).await;
    let values = world(&app, &o).await;
    let reads: Vec<String> = routes()
        .into_iter()
        .filter(|(m, p)| m == "GET" && p.starts_with("/api/v1/conferences/{c}"))
        .map(|(_, p)| fill(&p, &values))
        .collect();
    assert!(
        reads.len() >= 15,
        "the route table lost its reads: {reads:?}"
    );
    until_source(
        &app.address,
        &fill("/api/v1/conferences/{c}", &values),
        "cache",
    )
    .await;
    let mut cached = 0;
    for path in &reads {
        let (s1, _, b1) = raw(&app.address, path, None).await;
        let (s2, source, b2) = raw(&app.address, path, None).await;
        assert_eq!((s1, &b1), (s2, &b2), "{path}: the cache changed the answer");
        if source == "cache" {
            assert_eq!(s1, 200, "{path}: only 200 is cached");
            cached += 1;
        }
        let (_, source, _) = raw(&app.address, path, Some(&o.token)).await;
        assert_eq!(
            source, "",
            "{path}: an organiser's read is not a public one"
        );
    }
    assert!(
        cached >= 10,
        "only {cached} of {} reads were cached",
        reads.len()
    );
    let (s, body) = app
        .patch(
            &fill("/api/v1/conferences/{c}", &values),
            Some(&o.token),
            &json!({"status": "draft"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    for path in &reads {
        let (s, source, _) = raw(&app.address, path, None).await;
        assert!(
            s == 401 || s == 404,
            "{path}: {s} from {source} for a draft"
        );
    }
}

/// Generated from the route table: every read that answers 200, to an anonymous caller or to
/// the conference's organiser, carries an `ETag` and answers `If-None-Match` with it by 304,
/// whether cached or not.
#[actix_web::test]
async fn every_read_has_an_etag_and_answers_if_none_match() {
    use crate::security::{fill, routes, world};
    let app = spawn_app().await;
    let o = app.organiser("etag-matrix@example.org", false).await;
    let mut values = world(&app, &o).await;
    values.push(("{code}", "KH".to_string()));
    let (mut checked, mut missing) = (Vec::new(), Vec::new());
    for token in [None, Some(o.token.as_str())] {
        for (method, route) in routes() {
            if method != "GET" || !route.starts_with("/api/v1/") {
                continue;
            }
            let path = fill(&route, &values);
            let send = |inm: Option<&str>| {
                let mut rb = app.client.get(format!("{}{path}", app.address));
                if let Some(t) = token {
                    rb = rb.bearer_auth(t);
                }
                if let Some(tag) = inm {
                    rb = rb.header("if-none-match", tag);
                }
                rb.send()
            };
            let r = send(None).await.expect("send");
            if r.status().as_u16() != 200 {
                continue;
            }
            let Some(etag) = r
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
            else {
                missing.push((route, token.is_some()));
                continue;
            };
            let r = send(Some(&etag)).await.expect("send");
            assert_eq!(
                r.status().as_u16(),
                304,
                "{route} with If-None-Match {etag}"
            );
            checked.push((route, token.is_some()));
        }
    }
    assert_eq!(missing, Vec::<(String, bool)>::new(), "200 without an ETag");
    assert!(checked.len() >= 40, "only {checked:?}");
}

/// Handlers ignore unknown query parameters, so a long junk query would be a new cache key
/// for the same answer: keys over 512 bytes are never kept (found by a new-user trial).
#[actix_web::test]
async fn a_long_junk_query_is_answered_but_not_cached() {
    let app = spawn_app().await;
    let o = app.organiser("junk@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/conferences/{cid}/attendance");
    until_source(&app.address, &path, "cache").await;
    // A plain client: the spec-checking one refuses undeclared query parameters.
    let raw = reqwest::Client::new();
    let source = async |query: &str| {
        let r = raw
            .get(format!("{}{path}?{query}", app.address))
            .send()
            .await
            .expect("send");
        let source = r
            .headers()
            .get("x-plenary-source")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (r.status().as_u16(), source)
    };
    let junk = format!("junk={}", "x".repeat(600));
    for _ in 0..3 {
        assert_eq!(source(&junk).await, (200, "primary".to_string()));
    }
    let mut sources = Vec::new();
    for _ in 0..3 {
        sources.push(source("junk=1").await.1);
    }
    assert_eq!(
        sources.last().map(String::as_str),
        Some("cache"),
        "{sources:?}"
    );
}

/// Sends `n` anonymous reads of `path` at once; their statuses and sources.
async fn many_reads(address: &str, path: &str, n: usize) -> Vec<(u16, String)> {
    let reads = (0..n).map(|_| async {
        let (status, source, _, _) = read(address, path).await;
        (status, source)
    });
    futures::future::join_all(reads).await
}

#[actix_web::test]
async fn many_readers_after_a_write_share_one_database_read() {
    let app = spawn_app().await;
    let o = app.organiser("flight@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    delegation(&app, &o.token, cid, "KH").await;
    let path = format!("/api/v1/conferences/{cid}/attendance");
    until_source(&app.address, &path, "cache").await;
    // The write makes the entry older than what the instance knows: 40 readers at once need
    // one new read of the database, and only one makes it (issue 22: coalesced, not a
    // stampede).
    delegation(&app, &o.token, cid, "TH").await;
    let answers = many_reads(&app.address, &path, 40).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let from_database = answers.iter().filter(|(_, s)| s != "cache").count();
    assert_eq!(from_database, 1, "{answers:?}");
    let (_, _, _, after) = read(&app.address, &path).await;
    assert_eq!(countries(&after), vec!["KH", "TH"]);
}

#[actix_web::test]
async fn while_the_revisions_are_locked_readers_wait_for_the_watcher_not_the_database() {
    let app = spawn_app().await;
    let o = app.organiser("locked@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    delegation(&app, &o.token, cid, "KH").await;
    let path = format!("/api/v1/conferences/{cid}/attendance");
    until_source(&app.address, &path, "cache").await;
    // What a migration or VACUUM FULL takes: the watcher's questions wait, the instance goes
    // unsure after 800 ms. No write can commit meanwhile, and readers wait for the watcher's
    // next answer and are served the cached entry (before: every one of them read the
    // database, uncached).
    let mut lock = lock_revisions(&app).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let readers = many_reads(&app.address, &path, 30);
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sql(&mut lock, "COMMIT").await;
    };
    let (answers, ()) = futures::future::join(readers, release).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(
        answers.iter().all(|(_, source)| source == "cache"),
        "{answers:?}"
    );
}

#[actix_web::test]
async fn reads_held_up_by_a_lock_on_the_revisions_wait_their_turn_not_for_the_pool() {
    // Two connections, a short pool wait: every fill's revision read waits for the lock, so
    // before fills took turns the first two fills held both connections and the others (and
    // any organiser's read) answered 503 once the pool's wait ran out.
    let mut options = test_options();
    options.pool.max_size = 2;
    options.pool.timeout = Duration::from_millis(400);
    let app = spawn_app_with(options).await;
    let o = app.organiser("turns@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    delegation(&app, &o.token, cid, "KH").await;
    let mut lock = lock_revisions(&app).await;
    // Six responses not cached yet (each query is its own key): six fills. A plain client:
    // the spec-checking one refuses undeclared query parameters.
    let raw = reqwest::Client::new();
    let readers = futures::future::join_all((0..6).map(|i| {
        let url = format!("{}/api/v1/conferences/{cid}/attendance?k={i}", app.address);
        let raw = raw.clone();
        async move {
            let r = raw.get(url).send().await.expect("send");
            let source = r
                .headers()
                .get("x-plenary-source")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, source, body)
        }
    }));
    let organiser = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.get(&format!("/api/v1/conferences/{cid}"), Some(&o.token))
            .await
    };
    let release = async {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        sql(&mut lock, "COMMIT").await;
    };
    let (answers, (status, body), ()) = futures::join!(readers, organiser, release);
    assert_eq!(status, 200, "an organiser's read during the lock: {body}");
    for (status, source, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(source, "primary");
        assert_eq!(countries(body), vec!["KH"]);
    }
}

/// An anonymous GET of `path` with a plain client (the spec-checking one refuses undeclared
/// query parameters): status, `X-Plenary-Source`, body.
/// Runs `sql` on `conn`.
async fn sql(conn: &mut diesel_async::AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).await.expect(sql);
}

/// The id of the transaction `conn` is in (one is assigned if it had none); outside a
/// transaction, of the one the statement itself commits.
async fn xact_id(conn: &mut diesel_async::AsyncPgConnection) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "pg_current_xact_id()::text::bigint",
    ))
    .get_result(conn)
    .await
    .expect("a transaction's id")
}

/// [`plenary::store::revisions::committed_since`] `base`, which must be answered.
async fn committed_since(
    conn: &mut diesel_async::AsyncPgConnection,
    base: &plenary::store::revisions::Snapshot,
) -> (plenary::store::revisions::Snapshot, Vec<i64>) {
    plenary::store::revisions::committed_since(conn, base)
        .await
        .expect("vouch")
        .expect("fewer than 10 000 ids since")
}

/// A connection holding `conference_revisions` in ACCESS EXCLUSIVE mode (what a migration or
/// `VACUUM FULL` takes) until it runs COMMIT.
async fn lock_revisions(app: &TestApp) -> diesel_async::AsyncPgConnection {
    let mut lock = app.conn().await;
    sql(&mut lock, "BEGIN").await;
    sql(
        &mut lock,
        "LOCK TABLE conference_revisions IN ACCESS EXCLUSIVE MODE",
    )
    .await;
    lock
}

async fn plain_read(raw: &reqwest::Client, address: &str, path: &str) -> (u16, String, Value) {
    let r = raw
        .get(format!("{address}{path}"))
        .send()
        .await
        .expect("send");
    let source = r
        .headers()
        .get("x-plenary-source")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, source, body)
}

#[actix_web::test]
async fn a_lock_on_the_revisions_under_readers_and_a_writer_leaves_every_read_answered() {
    // `benches/run.sh --focus overload`'s overload-lock run in small: two workers with two
    // connections each (the default pool of 4), cached readers of several conferences, reads
    // that miss the cache while the instance is still sure (each fill's revision read then
    // waits for the lock), and a write held up by the lock on its connection, as the
    // benchmark's writer's is; the lock outlasts the pool's wait (here 400 ms) and the time
    // the instance stays sure (800 ms). Before fills took turns, two fills on a worker, or a
    // fill and the write, held both of its connections and the next fill answered 503 once
    // the pool's wait ran out.
    let mut options = test_options();
    options.workers = Some(2);
    options.pool.max_size = 4;
    options.pool.timeout = Duration::from_millis(400);
    let app = spawn_app_with(options).await;
    let o = app.organiser("overload@example.org", false).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let conf = app.conference(&o, "published").await;
        let cid = conf["id"].as_str().unwrap_or_default().to_string();
        delegation(&app, &o.token, &cid, "KH").await;
        until_source(
            &app.address,
            &format!("/api/v1/conferences/{cid}/attendance"),
            "cache",
        )
        .await;
        ids.push(cid);
    }
    let mut lock = lock_revisions(&app).await;
    let raw = reqwest::Client::new();
    let written = &ids[0];
    let write = async {
        let (s, body) = app
            .post(
                &format!("/api/v1/conferences/{written}/delegations"),
                Some(&o.token),
                &json!({"country": "TH", "status": "attended", "size": 2}),
            )
            .await;
        (s, body)
    };
    // Cached readers, one after another on each of 24 connections, for the whole lock.
    let until = Instant::now() + Duration::from_millis(2200);
    let cached = futures::future::join_all((0..24).map(|n| {
        let (raw, ids, address) = (raw.clone(), ids.clone(), app.address.clone());
        async move {
            let mut answers = Vec::new();
            let mut i = n;
            while Instant::now() < until {
                let path = format!("/api/v1/conferences/{}/attendance", ids[i % ids.len()]);
                answers.push((path.clone(), plain_read(&raw, &address, &path).await));
                i += 1;
            }
            answers
        }
    }));
    // Responses not cached yet (each query its own key), asked while the instance is sure.
    let missing = futures::future::join_all((0..8).map(|i| {
        let (raw, address) = (raw.clone(), app.address.clone());
        let path = format!(
            "/api/v1/conferences/{}/attendance?k={i}",
            ids[i % ids.len()]
        );
        async move {
            tokio::time::sleep(Duration::from_millis(20 * i as u64)).await;
            (path.clone(), plain_read(&raw, &address, &path).await)
        }
    }));
    let release = async {
        tokio::time::sleep(Duration::from_millis(1600)).await;
        sql(&mut lock, "COMMIT").await;
    };
    let ((status, body), cached, missing, ()) = futures::join!(write, cached, missing, release);
    assert_eq!(status, 201, "the write held up by the lock: {body}");
    let answers: Vec<_> = cached.into_iter().flatten().chain(missing).collect();
    assert!(answers.len() > 30, "{} reads", answers.len());
    for (path, (status, source, body)) in &answers {
        assert_eq!(*status, 200, "{path} from {source}: {body}");
        assert!(
            countries(body).contains(&"KH".to_string()),
            "{path}: {body}"
        );
    }
    // The write shows once it is known, and the cache answers again.
    let path = format!("/api/v1/conferences/{written}/attendance");
    let (_, _, _, after) = read(&app.address, &path).await;
    assert_eq!(countries(&after), vec!["KH", "TH"]);
    until_source(&app.address, &path, "cache").await;
}

#[actix_web::test]
async fn the_watcher_lists_every_commit_since_its_answer() {
    // What keeps the instance sure while a lock on the revisions holds its question
    // (`revisions::committed_since`, asked on a second connection that reads no table): a
    // commit since the last answer's snapshot is listed (the instance stays sure only when
    // each is one of its own writes, `Freshness::only_own`); none means the answer still
    // holds. The test cluster is shared by tests running in parallel,
    // whose commits count too, so the "holds" side is looked for over several tries.
    use plenary::store::revisions;
    let app = spawn_app().await;
    let (mut watcher, mut other, mut open) = (app.conn().await, app.conn().await, app.conn().await);
    let mut question = async || {
        revisions::changed_since(&mut watcher, 0)
            .await
            .expect("question")
            .0
    };
    // A transaction with an id, open across the answer: running is not committed.
    sql(&mut open, "BEGIN").await;
    let own = xact_id(&mut open).await;
    let mut held = false;
    for _ in 0..200 {
        let base = question().await;
        assert!(base.xmin <= base.xmax, "{base:?}");
        // Running at the snapshot: listed as running, or at or past its xmax (which is one past
        // the newest transaction that had ended, so the newest id may sit right on it).
        assert!(
            base.xip.contains(&own) || own >= base.xmax,
            "the open transaction {own} is running: {base:?}"
        );
        let (now, committed) = committed_since(&mut other, &base).await;
        assert!(now.xmax >= base.xmax, "{base:?} then {now:?}");
        assert!(!committed.contains(&own), "{own} is running: {committed:?}");
        if committed.is_empty() {
            held = true;
            break;
        }
    }
    assert!(
        held,
        "nothing committed between two statements in 200 tries"
    );
    // Commits since the snapshot: the open transaction's, then one begun after the snapshot.
    let base = question().await;
    sql(&mut open, "COMMIT").await;
    let (_, committed) = committed_since(&mut other, &base).await;
    assert!(
        committed.contains(&own),
        "a transaction running at the snapshot committed since: {own} in {committed:?}"
    );
    let base = question().await;
    let after = xact_id(&mut open).await;
    let (_, committed) = committed_since(&mut other, &base).await;
    assert!(
        committed.contains(&after),
        "a transaction after the snapshot committed: {after} in {committed:?}"
    );
    // One that started after it and rolled back does not count.
    let mut held = false;
    for _ in 0..200 {
        let base = question().await;
        for statement in ["BEGIN", "SELECT pg_current_xact_id()", "ROLLBACK"] {
            sql(&mut open, statement).await;
        }
        let (_, committed) = committed_since(&mut other, &base).await;
        if committed.is_empty() {
            held = true;
            break;
        }
    }
    assert!(
        held,
        "a rolled-back transaction was counted as committed in 200 tries"
    );
}
