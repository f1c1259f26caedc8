//! Webhooks (API.md, "Notifications: e-mail and webhooks"): registered by a conference's
//! organisers, delivered through the outbox to a real HTTP receiver (tests/api/py/
//! webhook_receiver.py) that verifies every signature with the Standard Webhooks reference
//! library (`standardwebhooks`, PyPI), retried on failure, in commit order per webhook.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{id, spawn_app, spawn_app_with, status_json, test_options, TestApp};

/// The receiver process, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Receiver {
    /// Starts `webhook_receiver.py` on a free port of 127.0.0.1 (the virtualenv is made on
    /// the blocking pool: it can take a while the first time).
    async fn start() -> Receiver {
        tokio::task::spawn_blocking(|| {
            let dir = std::env::temp_dir().join(format!("plenary-hooks-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&dir).expect("receiver dir");
            let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/api/py/webhook_receiver.py");
            let mut child = Command::new(crate::python::python())
                .arg(script)
                .arg(&dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn the receiver");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("the receiver's port");
            let port = line.trim().parse().expect("a port number");
            Receiver { child, port, dir }
        })
        .await
        .expect("receiver task")
    }

    /// The URL of hook `hook` answering by `behaviour` (`ok`, `flaky`, `redirect`, `fail`).
    fn url(&self, hook: &str, behaviour: &str) -> String {
        format!("http://127.0.0.1:{}/{hook}/{behaviour}", self.port)
    }

    /// Tells the receiver hook `hook`'s secret.
    fn secret(&self, hook: &str, secret: &str) {
        std::fs::write(self.dir.join(format!("{hook}.secret")), secret).expect("secret file");
    }

    /// Every request the receiver saw, in arrival order.
    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("records.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The requests of hook `hook`.
    fn of(&self, hook: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["hook"] == hook)
            .collect()
    }

    /// Waits (up to 30 s) until `done` holds for hook `hook`'s requests, and returns them.
    async fn until(&self, hook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..300 {
            let seen = self.of(hook);
            if done(&seen) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seen = self.of(hook);
        panic!("hook {hook}: not done after 30 s; saw {seen:#?}");
    }
}

/// Registers a webhook of conference `cid` and tells the receiver its secret; returns it.
async fn register(
    app: &TestApp,
    token: &str,
    cid: &str,
    r: &Receiver,
    hook: &str,
    behaviour: &str,
    events: Value,
) -> Value {
    let (s, w) = app
        .post(
            &format!("/api/v1/conferences/{cid}/webhooks"),
            Some(token),
            &json!({"url": r.url(hook, behaviour), "events": events}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    r.secret(hook, w["secret"].as_str().unwrap_or_default());
    w
}

/// The deliveries page at `path` once its newest delivery is no longer `pending` (the receiver
/// may see a delivery a moment before the sender records its answer); up to 10 s.
async fn settled(app: &TestApp, token: &str, path: &str) -> Value {
    let mut page = Value::Null;
    for _ in 0..100 {
        let (s, p) = app.get(path, Some(token)).await;
        assert_eq!(s, 200, "{p}");
        page = p;
        if page["items"][0]["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    page
}

fn types(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["answered"] == 200)
        .map(|r| r["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[actix_web::test]
async fn a_member_created_delivery_arrives_signed_with_what_organisers_read() {
    let app = spawn_app().await;
    let r = Receiver::start().await;
    let f = app.fixture().delegation("KH").build().await;
    let token = f.owner.token.as_str();
    let base = format!("/api/v1/conferences/{}/webhooks", f.conference);

    let res = app
        .request(
            Method::POST,
            &base,
            Some(token),
            Some(&json!({"url": r.url("a", "ok"), "events": ["member.created", "member.created"]})),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.header_text("cache-control"), "no-store");
    let location = res.header_text("location");
    let (_, w) = status_json(res).await;
    assert_eq!(location, format!("{base}/{}", id(&w)));
    assert_eq!(w["events"], json!(["member.created"]), "{w}");
    assert_eq!(w["url"], r.url("a", "ok"));
    let secret = w["secret"].as_str().unwrap_or_default().to_string();
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64");
    assert_eq!(key.len(), 32);
    r.secret("a", &secret);

    // Read back: never the secret.
    let (s, list) = app.get(&base, Some(token)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains(&secret));
    let (s, one) = app.get(&format!("{base}/{}", id(&w)), Some(token)).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one.get("secret"), None);
    assert_eq!(one["id"], w["id"]);
    // The audit log has the registration, without the secret.
    let (s, log) = app
        .get(
            &format!("/api/v1/conferences/{}/log", f.conference),
            Some(token),
        )
        .await;
    assert_eq!(s, 200, "{log}");
    assert!(log.to_string().contains("\"webhook\""), "{log}");
    assert!(!log.to_string().contains(&secret));

    // A member: its creation is delivered, signed, with the member as organisers read it;
    // its update (not subscribed) is not.
    let members = format!("{}/members", f.delegation_path(0));
    let (s, m) = app
        .post(
            &members,
            Some(token),
            &json!({"full_name": "Sok Chea", "email": "sok.chea@example.org"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (_, listed) = app.get(&members, Some(token)).await;
    let read = listed["items"][0].clone();
    let (s, _) = app
        .patch(
            &format!("{members}/{}", id(&m)),
            Some(token),
            &json!({"position": "Adviser"}),
        )
        .await;
    assert_eq!(s, 200);
    let seen = r.until("a", |s| !s.is_empty()).await;
    let d = &seen[0];
    assert_eq!(d["verified"], true, "{d}");
    assert_eq!(d["type"], "member.created");
    assert_eq!(d["method"], "POST");
    assert_eq!(
        d["data"], m,
        "the delivery carries the member as its 201 showed it"
    );
    assert_eq!(d["data"], read, "and as the organisers' list showed it");
    // Where the member lives, which its own representation does not say (a new user's
    // trial found a receiver could not tell which delegation a nomination was for).
    assert_eq!(d["conference_id"], json!(f.conference), "{d}");
    assert_eq!(d["delegation_id"], json!(f.delegations[0]), "{d}");

    // The deliveries list: delivered at the first attempt, with the receiver's 200.
    let deliveries = format!("{base}/{}/deliveries", id(&w));
    let page = settled(&app, token, &deliveries).await;
    let item = &page["items"][0];
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(item["id"], d["id"]);
    assert_eq!(item["type"], "member.created");
    assert_eq!(item["status"], "delivered");
    assert_eq!(item["attempts"], 1);
    assert_eq!(item["last_status_code"], 200);
    assert!(item["delivered_at"].is_string(), "{item}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.of("a").len(), 1, "the update was not subscribed");

    // An Idempotency-Key replay answers the same webhook without its secret.
    let post_keyed = || {
        app.client
            .post(format!("{}{base}", app.address))
            .bearer_auth(token)
            .header("idempotency-key", "hook-1")
            .json(&json!({"url": r.url("b", "ok"), "events": ["*"]}))
            .send()
    };
    let (s1, first) = status_json(post_keyed().await.expect("post")).await;
    let (s2, replay) = status_json(post_keyed().await.expect("post")).await;
    assert_eq!((s1, s2), (201, 201), "{first} {replay}");
    assert_eq!(first["id"], replay["id"]);
    assert!(first["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("whsec_")));
    assert_eq!(replay["secret"], Value::Null, "{replay}");
}

#[actix_web::test]
async fn failures_and_redirects_are_retried_and_the_deliveries_show_them() {
    let app = spawn_app().await;
    let r = Receiver::start().await;
    let f = app.fixture().build().await;
    let token = f.owner.token.as_str();
    let cid = f.conference.as_str();
    let flaky = register(
        &app,
        token,
        cid,
        &r,
        "flaky",
        "flaky",
        json!(["delegation.created"]),
    )
    .await;
    let moved = register(
        &app,
        token,
        cid,
        &r,
        "moved",
        "redirect",
        json!(["delegation.created"]),
    )
    .await;
    let down = register(
        &app,
        token,
        cid,
        &r,
        "down",
        "fail",
        json!(["delegation.created"]),
    )
    .await;
    let (s, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(token),
            &json!({"country": "TH"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");

    // 500, then (after retry_base, 200 ms in tests) 200, the same webhook-id both times.
    let seen = r
        .until("flaky", |s| s.iter().any(|x| x["answered"] == 200))
        .await;
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0]["answered"], 500);
    assert_eq!(seen[0]["id"], seen[1]["id"]);
    assert!(seen.iter().all(|x| x["verified"] == true), "{seen:#?}");
    assert_eq!(seen[1]["data"], d);

    // A 302 is not followed: nothing reaches its Location, and the delivery is retried.
    let seen = r
        .until("moved", |s| s.iter().any(|x| x["answered"] == 200))
        .await;
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0]["answered"], 302);
    assert!(
        seen.iter().all(|x| x["path"] == "/moved/redirect"),
        "{seen:#?}"
    );

    let deliveries = |w: &Value| format!("/api/v1/conferences/{cid}/webhooks/{}/deliveries", id(w));
    for w in [&flaky, &moved] {
        let page = settled(&app, token, &deliveries(w)).await;
        let item = &page["items"][0];
        assert_eq!(item["status"], "delivered", "{item}");
        assert_eq!(item["attempts"], 2, "{item}");
        assert_eq!(item["last_status_code"], 200, "{item}");
        assert_eq!(item["last_error"], Value::Null, "{item}");
    }
    // Always 500: still pending, retried, its last answer shown.
    r.until("down", |s| s.len() >= 2).await;
    let (_, page) = app.get(&deliveries(&down), Some(token)).await;
    let item = &page["items"][0];
    assert_eq!(item["status"], "pending", "{item}");
    assert!(item["attempts"].as_i64().is_some_and(|a| a >= 2), "{item}");
    assert_eq!(item["last_status_code"], 500, "{item}");
    assert!(
        item["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("500")),
        "{item}"
    );
    assert_eq!(item["delivered_at"], Value::Null);
}

#[actix_web::test]
async fn a_star_gets_every_event_others_only_theirs_in_commit_order_until_deleted() {
    let app = spawn_app().await;
    let r = Receiver::start().await;
    let f = app.fixture().delegation("KH").build().await;
    let token = f.owner.token.as_str();
    let cid = f.conference.as_str();
    register(&app, token, cid, &r, "all", "ok", json!(["*"])).await;
    let only = register(
        &app,
        token,
        cid,
        &r,
        "only",
        "flaky",
        json!(["delegation.updated"]),
    )
    .await;

    // Ten changes in a row; "only" fails every first attempt, so a later delivery would
    // overtake an earlier one if the sender let it.
    for size in 1..=10 {
        let (s, b) = app
            .patch(&f.delegation_path(0), Some(token), &json!({"size": size}))
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(token),
            &json!({"country": "TH"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            Some(token),
            &json!({"title": "Renamed Conference"}),
        )
        .await;
    assert_eq!(s, 200);

    let seen = r.until("only", |s| types(s).len() >= 10).await;
    assert!(seen.iter().all(|x| x["verified"] == true), "{seen:#?}");
    let sizes: Vec<i64> = seen
        .iter()
        .filter(|x| x["answered"] == 200)
        .map(|x| x["data"]["size"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(sizes, (1..=10).collect::<Vec<_>>(), "in commit order");
    assert!(types(&seen).iter().all(|t| t == "delegation.updated"));

    let all = r.until("all", |s| types(s).len() >= 12).await;
    let mut kinds = types(&all);
    assert_eq!(kinds.len(), 12, "{all:#?}");
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "delegation.updated",
            "delegation.created",
            "conference.updated"
        ],
        "in commit order"
    );

    // Deleted: no more deliveries, and its routes are 404.
    let path = format!("/api/v1/conferences/{cid}/webhooks/{}", id(&only));
    let (s, _) = app.delete(&path, Some(token)).await;
    assert_eq!(s, 204);
    assert_eq!(app.get(&path, Some(token)).await.0, 404);
    assert_eq!(
        app.get(&format!("{path}/deliveries"), Some(token)).await.0,
        404
    );
    assert_eq!(app.delete(&path, Some(token)).await.0, 404);
    let (s, _) = app
        .patch(&f.delegation_path(0), Some(token), &json!({"size": 11}))
        .await;
    assert_eq!(s, 200);
    r.until("all", |s| types(s).len() >= 13).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(types(&r.of("only")).len(), 10, "nothing after the deletion");
}

#[actix_web::test]
async fn another_conferences_organiser_gets_nothing() {
    let app = spawn_app().await;
    let mine = app.fixture().owner_email("a@example.org").build().await;
    let theirs = app.fixture().owner_email("b@example.org").build().await;
    let a = mine.owner.token.as_str();
    let b = theirs.owner.token.as_str();
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]});
    let (s, w) = app
        .post(
            &format!("/api/v1/conferences/{}/webhooks", theirs.conference),
            Some(b),
            &body,
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let theirs_base = format!("/api/v1/conferences/{}/webhooks", theirs.conference);
    let theirs_one = format!("{theirs_base}/{}", id(&w));
    for (method, path) in [
        (Method::GET, theirs_base.clone()),
        (Method::POST, theirs_base.clone()),
        (Method::GET, theirs_one.clone()),
        (Method::DELETE, theirs_one.clone()),
        (Method::GET, format!("{theirs_one}/deliveries")),
    ] {
        let with_body = (method == Method::POST).then_some(&body);
        let (s, answer) =
            status_json(app.request(method.clone(), &path, Some(a), with_body).await).await;
        assert!(s == 403 || s == 404, "{method} {path}: {s} {answer}");
    }
    // Their webhook under my conference: not there.
    let mine_one = format!(
        "/api/v1/conferences/{}/webhooks/{}",
        mine.conference,
        id(&w)
    );
    assert_eq!(app.get(&mine_one, Some(a)).await.0, 404);
    assert_eq!(
        app.get(&format!("{mine_one}/deliveries"), Some(a)).await.0,
        404
    );
    assert_eq!(app.delete(&mine_one, Some(a)).await.0, 404);
    // Without a token: 401.
    assert_eq!(app.get(&theirs_base, None).await.0, 401);
    // Still there for its owner.
    assert_eq!(app.get(&theirs_one, Some(b)).await.0, 200);
}

#[actix_web::test]
async fn internal_and_unresolvable_hosts_and_bad_bodies_are_422() {
    let mut options = test_options();
    options.notify.webhook_allow_private = false;
    let app = spawn_app_with(options).await;
    let f = app.fixture().build().await;
    let token = f.owner.token.as_str();
    let base = format!("/api/v1/conferences/{}/webhooks", f.conference);
    let app = &app;
    let post = |body: Value| {
        let base = base.clone();
        async move { app.post(&base, Some(token), &body).await }
    };
    for url in [
        "http://127.0.0.1:9/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://localhost/",
        "https://169.254.169.254/latest/meta-data",
        "http://192.168.1.10:8080/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://2130706433/",
        "http://plenary-test-host.invalid/",
    ] {
        let (s, problem) = post(json!({"url": url, "events": ["*"]})).await;
        assert_eq!(s, 422, "{url}: {problem}");
        assert_eq!(
            crate::helpers::problem_fields(&problem, 422),
            ["url"],
            "{url}"
        );
    }
    for (body, field) in [
        (json!({"url": "ftp://example.org/", "events": ["*"]}), "url"),
        (
            json!({"url": "https://user:pw@example.org/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": format!("https://example.org/{}", "a".repeat(2048)), "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://93.184.215.14/", "events": ["member.created", "member.eaten"]}),
            "events[1]",
        ),
        (
            json!({"url": "https://93.184.215.14/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://93.184.215.14/", "events": "*"}),
            "events",
        ),
        (json!({"events": ["*"]}), "url"),
    ] {
        let (s, problem) = post(body.clone()).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert_eq!(
            crate::helpers::problem_fields(&problem, 422),
            [field],
            "{body}"
        );
    }
    // A public address written out needs no resolving, and is accepted.
    let (s, w) = post(json!({"url": "https://93.184.215.14/hook", "events": ["*"]})).await;
    assert_eq!(s, 201, "{w}");
}
