//! Login rate limiting, input limits and the OWASP API Security Top 10 (2023) checks that
//! apply to Plenary, run over every write route.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, status_json, test_options, Organiser, TestApp, PASSWORD, SECRET,
};

#[actix_web::test]
async fn failed_logins_are_limited_per_email_with_retry_after() {
    let mut options = test_options();
    options.login_limits.per_email = 3;
    let app = spawn_app_with(options).await;
    app.organiser("limited@example.org", false).await;
    let wrong = json!({"email": "limited@example.org", "password": "wrong password!!"});
    for _ in 0..3 {
        assert_eq!(app.post("/api/v1/auth/token", None, &wrong).await.0, 401);
    }
    let r = app
        .request(Method::POST, "/api/v1/auth/token", None, Some(&wrong))
        .await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry > 0 && retry <= 900, "{retry}");
    let (_, body) = status_json(r).await;
    assert_eq!(body["type"], "/problems/too-many-requests");
    // Even the right password is refused while limited.
    let right = json!({"email": "limited@example.org", "password": PASSWORD});
    assert_eq!(app.post("/api/v1/auth/token", None, &right).await.0, 429);
}

#[actix_web::test]
async fn failed_logins_are_limited_per_client_address() {
    let mut options = test_options();
    options.login_limits.per_address = 4;
    let app = spawn_app_with(options).await;
    for i in 0..4 {
        let body =
            json!({"email": format!("nobody{i}@example.org"), "password": "wrong password!!"});
        assert_eq!(app.post("/api/v1/auth/token", None, &body).await.0, 401);
    }
    let body = json!({"email": "someone-else@example.org", "password": "wrong password!!"});
    assert_eq!(app.post("/api/v1/auth/token", None, &body).await.0, 429);
}

#[actix_web::test]
async fn a_successful_login_does_not_count() {
    let mut options = test_options();
    options.login_limits.per_address = 3;
    let app = spawn_app_with(options).await;
    app.organiser("ok@example.org", false).await;
    let right = json!({"email": "ok@example.org", "password": PASSWORD});
    for _ in 0..6 {
        assert_eq!(app.post("/api/v1/auth/token", None, &right).await.0, 200);
    }
}

#[actix_web::test]
async fn strings_lists_and_batches_are_bounded() {
    let app = spawn_app().await;
    let o = app.organiser("bounds@example.org", false).await;
    let t = Some(o.token.as_str());
    let (s, _) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "x".repeat(301), "kind": "other"}),
        )
        .await;
    assert_eq!(s, 422);
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let items: Vec<Value> = (0..201).map(|_| json!({"country": "KH"})).collect();
    let (s, b) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"items": items}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let ids: Vec<String> = (0..501).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/sessions"),
            t,
            &json!({"title": "S", "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00", "delegation_ids": ids}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(
        app.get("/api/v1/organisations?limit=1000", None).await.0,
        422
    );
    assert_eq!(
        app.get(&format!("/api/v1/countries?q={}", "a".repeat(300)), None)
            .await
            .0,
        422
    );
}

/// Every write route of the API, generated from the route table (`plenary::routes::endpoints`,
/// which the contract tests hold equal to the spec), with `{c}`, `{d}`, `{m}`, `{s}`, `{o}`
/// placeholders; the other `/auth/` routes (`token`, `invitations/accept`, `password-reset`
/// and its `confirm`, which exchange credentials or codes for a token) are the writes
/// without a token; `POST /auth/password` (signed in) is one of the write routes.
pub(crate) fn write_routes() -> Vec<(String, String)> {
    let routes: Vec<(String, String)> = routes()
        .into_iter()
        .filter(|(method, path)| {
            method != "GET"
                && (!path.starts_with("/api/v1/auth/") || path == "/api/v1/auth/password")
        })
        .collect();
    assert!(routes.len() >= 18, "the route table lost its writes");
    routes
}

/// Every route of the route table (`plenary::routes::endpoints`) as `(method, path)`, with
/// the placeholders `{o}` (organisation), `{c}` (conference), `{d}` (delegation), `{m}`
/// (member), `{s}` (session), `{f}` (focal point), `{number}` (an edition of the list of
/// participants), `{msg}` (an e-mail) and `{w}` (a webhook) that [`world`]'s values fill.
pub(crate) fn routes() -> Vec<(String, String)> {
    plenary::routes::endpoints()
        .into_iter()
        .map(|e| {
            let path = if e.path.starts_with("/api/v1/organisations/") {
                e.path.replace("{id}", "{o}")
            } else {
                e.path.replace("{id}", "{c}")
            };
            let path = path
                .replace("{delegation_id}", "{d}")
                .replace("{member_id}", "{m}")
                .replace("{session_id}", "{s}")
                .replace("{focal_point_id}", "{f}")
                .replace("{message_id}", "{msg}")
                .replace("{webhook_id}", "{w}");
            (e.method.to_string(), path)
        })
        .collect()
}

/// A conference with a delegation, a member, a session, an invited focal point of the
/// delegation, a provisional edition of its list of participants (number 1) and a webhook;
/// returns the placeholder values.
pub(crate) async fn world(app: &TestApp, owner: &Organiser) -> Vec<(&'static str, String)> {
    let t = Some(owner.token.as_str());
    let (_, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": format!("Org {}", uuid::Uuid::now_v7()), "kind": "other"}),
        )
        .await;
    let f = app.fixture().owner(owner).delegation("KH").build().await;
    let (cid, did) = (f.conference, f.delegations[0].clone());
    let (_, m) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/members"),
            t,
            &json!({"full_name": "A Member", "email": "member@example.org"}),
        )
        .await;
    let (_, s) = app
        .post(
            &format!("/api/v1/conferences/{cid}/sessions"),
            t,
            &json!({"title": "S", "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00"}),
        )
        .await;
    let (_, f) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points"),
            t,
            &json!({"email": format!("fp-{}@example.org", uuid::Uuid::now_v7()), "name": "F P"}),
        )
        .await;
    let (_, e) = app
        .post(
            &format!("/api/v1/conferences/{cid}/participants/editions"),
            t,
            &json!({"kind": "provisional"}),
        )
        .await;
    assert_eq!(e["number"], 1, "{e}");
    let msg = invitation_message(app, &cid).await;
    // Last, so that none of the writes above is delivered to it (nothing listens there).
    let (_, w) = app
        .post(
            &format!("/api/v1/conferences/{cid}/webhooks"),
            t,
            &json!({"url": "http://127.0.0.1:9/plenary-hook", "events": ["*"]}),
        )
        .await;
    vec![
        ("{o}", org["id"].as_str().unwrap_or_default().to_string()),
        ("{c}", cid),
        ("{d}", did),
        ("{m}", m["id"].as_str().unwrap_or_default().to_string()),
        ("{s}", s["id"].as_str().unwrap_or_default().to_string()),
        ("{f}", f["id"].as_str().unwrap_or_default().to_string()),
        ("{number}", "1".to_string()),
        ("{msg}", msg),
        ("{w}", w["id"].as_str().unwrap_or_default().to_string()),
    ]
}

/// The id of the (only) e-mail of conference `cid`: the invitation of [`world`].
async fn invitation_message(app: &TestApp, cid: &str) -> String {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use plenary::db::schema::outbox::dsl as o;
    let cid = uuid::Uuid::parse_str(cid).expect("uuid");
    let mut conn = app.conn().await;
    let id: uuid::Uuid = o::outbox
        .filter(o::conference_id.eq(cid))
        .filter(o::kind.eq("invitation"))
        .select(o::id)
        .first(&mut conn)
        .await
        .expect("the invitation's e-mail");
    id.to_string()
}

pub(crate) fn fill(route: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(route.to_string(), |acc, (k, v)| acc.replace(k, v))
}

#[actix_web::test]
async fn every_write_route_refuses_missing_garbage_and_expired_tokens() {
    let app = spawn_app().await;
    let o = app.organiser("owasp-auth@example.org", false).await;
    let values = world(&app, &o).await;
    let now = chrono::Utc::now().timestamp();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": "plenary", "aud": "plenary-api", "sub": o.id.to_string(), "iat": now - 7200, "exp": now - 3600}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode");
    for (method, route) in &write_routes() {
        let path = fill(route, &values);
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        for token in [None, Some("garbage"), Some(expired.as_str())] {
            let r = app
                .request(method.clone(), &path, token, Some(&json!({})))
                .await;
            assert_eq!(r.status().as_u16(), 401, "{method} {path} with {token:?}");
            assert!(r.headers().get("www-authenticate").is_some());
        }
    }
}

/// Check-in staff (the organiser role `check_in`) record check-ins and nothing else: every
/// other write route of the route table refuses them (403, or 404 where the resource is
/// hidden), and `POST .../check-ins` takes their scan.
#[actix_web::test]
async fn check_in_staff_may_only_scan() {
    let app = spawn_app().await;
    let o = app.organiser("owasp-door-owner@example.org", false).await;
    let values = world(&app, &o).await;
    let cid = &values[1].1;
    let staff = app.organiser("owasp-door@example.org", false).await;
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/organisers"),
            Some(&o.token),
            &json!({"email": "owasp-door@example.org", "role": "check_in"}),
        )
        .await;
    assert_eq!(s, 202);
    let mut scanned = false;
    for (method, route) in write_routes().iter().filter(|(_, r)| r.contains("{c}")) {
        let path = fill(route, &values);
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let (s, body) = status_json(
            app.request(
                m.clone(),
                &path,
                Some(&staff.token),
                Some(&json!({"token": "x", "nonce": "n"})),
            )
            .await,
        )
        .await;
        if route.ends_with("/check-ins") {
            assert_eq!(
                (s, body["items"][0]["result"].as_str()),
                (200, Some("invalid")),
                "{body}"
            );
            scanned = true;
        } else {
            assert!(s == 403 || s == 404, "{method} {path}: {s} {body}");
        }
    }
    assert!(scanned, "the route table lost POST .../check-ins");
}

#[actix_web::test]
async fn nested_routes_refuse_resources_of_other_conferences_and_organisers() {
    let app = spawn_app().await;
    let a = app.organiser("owasp-a@example.org", false).await;
    let b = app.organiser("owasp-b@example.org", false).await;
    let mine = world(&app, &a).await;
    let theirs = world(&app, &b).await;
    for (method, route) in write_routes().iter().filter(|(_, r)| r.contains("{c}/")) {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        // My conference, their nested resource: 404 (it is not in my conference).
        let mixed: Vec<(&str, String)> = mine
            .iter()
            .map(|(k, v)| {
                if *k == "{c}" {
                    (*k, v.clone())
                } else {
                    (
                        *k,
                        theirs
                            .iter()
                            .find(|(tk, _)| tk == k)
                            .map(|(_, tv)| tv.clone())
                            .unwrap_or_default(),
                    )
                }
            })
            .collect();
        let path = fill(route, &mixed);
        if route.contains("{d}") || route.contains("{s}") {
            let (s, _) = status_json(
                app.request(
                    method.clone(),
                    &path,
                    Some(&a.token),
                    Some(&json!({"size": 1})),
                )
                .await,
            )
            .await;
            assert_eq!(s, 404, "{method} {path}");
        }
        // Their conference: 403 (published, readable, not mine to change).
        let path = fill(route, &theirs);
        let (s, _) = status_json(
            app.request(
                method.clone(),
                &path,
                Some(&a.token),
                Some(&json!({"size": 1})),
            )
            .await,
        )
        .await;
        assert!(s == 403 || s == 404, "{method} {path}: {s}");
    }
}

#[actix_web::test]
async fn unknown_fields_are_refused_on_every_body() {
    let app = spawn_app().await;
    let o = app.organiser("owasp-fields@example.org", false).await;
    let values = world(&app, &o).await;
    // Every JSON body (the letter of credentials is a PDF, tested in `credentials`).
    for (method, route) in write_routes()
        .iter()
        .filter(|(m, r)| m != "DELETE" && !(m == "PUT" && r.ends_with("/credentials")))
    {
        let path = fill(route, &values);
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let (s, body) = status_json(
            app.request(
                method.clone(),
                &path,
                Some(&o.token),
                Some(&json!({"owner": "me", "id": "x"})),
            )
            .await,
        )
        .await;
        assert_eq!(s, 422, "{method} {path}: {body}");
        assert!(
            body.to_string().contains("unknown field"),
            "{method} {path}: {body}"
        );
    }
}

#[actix_web::test]
async fn public_responses_never_contain_member_emails() {
    let app = spawn_app().await;
    let o = app.organiser("owasp-email@example.org", false).await;
    let values = world(&app, &o).await;
    let cid = &values[1].1;
    for path in [
        format!("/api/v1/conferences/{cid}"),
        format!("/api/v1/conferences/{cid}/attendance"),
        format!("/api/v1/conferences/{cid}/delegations"),
        format!("/api/v1/conferences/{cid}/sessions"),
        "/api/v1/conferences".to_string(),
        "/api/v1/countries/KH/attendance".to_string(),
    ] {
        let (s, body) = app.get(&path, None).await;
        assert_eq!(s, 200, "{path}");
        assert!(!body.to_string().contains("member@example.org"), "{path}");
    }
}

fn leaks(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "diesel",
        "sql",
        "panicked",
        "constraint",
        "violates",
        "postgres",
        "stack backtrace",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

#[actix_web::test]
async fn error_bodies_never_show_sql_diesel_or_panic_text() {
    let app = spawn_app().await;
    let o = app.organiser("owasp-leak@example.org", false).await;
    let values = world(&app, &o).await;
    let cid = &values[1].1;
    let t = Some(o.token.as_str());
    let cases: Vec<(u16, Value)> = vec![
        app.post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH"}),
        )
        .await,
        app.post(
            "/api/v1/organisations",
            t,
            &json!({"name": "x", "kind": "other"}),
        )
        .await,
        app.post(
            "/api/v1/organisations",
            t,
            &json!({"name": "X", "kind": "other"}),
        )
        .await,
        app.delete(&format!("/api/v1/conferences/{cid}"), t).await,
        app.post(
            &format!(
                "/api/v1/conferences/{cid}/delegations/{}/members",
                values[2].1
            ),
            t,
            &json!({"full_name": "H1", "is_head": true}),
        )
        .await,
        app.post(
            &format!(
                "/api/v1/conferences/{cid}/delegations/{}/members",
                values[2].1
            ),
            t,
            &json!({"full_name": "H2", "is_head": true}),
        )
        .await,
        app.get("/api/v1/conferences?cursor=%%%", None).await,
    ];
    let mut conflicts = 0;
    for (s, body) in cases {
        if s == 409 {
            conflicts += 1;
        }
        assert!(!leaks(&body.to_string()), "{s}: {body}");
    }
    assert!(
        conflicts >= 3,
        "the cases above must include real database conflicts"
    );
}

/// Found by the benchmark: counting every attempt up front made 64 concurrent successful
/// logins from one address trip the per-address limit, and the 429s were never taken back.
#[actix_web::test]
async fn concurrent_successful_logins_are_never_limited() {
    let mut options = test_options();
    options.login_limits.per_address = 4;
    let app = spawn_app_with(options).await;
    app.organiser("busy@example.org", false).await;
    let right = json!({"email": "busy@example.org", "password": PASSWORD});
    let logins = (0..12).map(|_| app.post("/api/v1/auth/token", None, &right));
    let statuses: Vec<u16> = futures::future::join_all(logins)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// A server for bursts of simultaneous logins: these tests are about the limiter's
/// atomicity, so the pool waits long enough for a busy 2-core machine instead of answering
/// 503 (the pool timeout has its own test in `resilience`).
async fn burst_app() -> TestApp {
    let mut options = test_options();
    options.pool.timeout = std::time::Duration::from_secs(30);
    spawn_app_with(options).await
}

/// Sends `n` logins at once (`email` of each from `emails(i)`), each from the forwarded
/// address `xff(i)` when given; answers the statuses.
async fn logins_at_once(
    app: &TestApp,
    n: usize,
    emails: impl Fn(usize) -> String,
    password: &str,
    xff: impl Fn(usize) -> Option<String>,
) -> Vec<u16> {
    let sends = (0..n).map(|i| {
        let mut rb = app
            .client
            .post(format!("{}/api/v1/auth/token", app.address))
            .json(&json!({"email": emails(i), "password": password}));
        if let Some(x) = xff(i) {
            rb = rb.header("x-forwarded-for", x);
        }
        async move { rb.send().await.expect("send") }
    });
    futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect()
}

/// One login from the forwarded address `xff` (if any): status and `Retry-After` (seconds).
async fn login(
    app: &TestApp,
    email: &str,
    password: &str,
    xff: Option<&str>,
) -> (u16, Option<u64>) {
    let mut rb = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .json(&json!({"email": email, "password": password}));
    if let Some(x) = xff {
        rb = rb.header("x-forwarded-for", x);
    }
    let r = rb.send().await.expect("send");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

// A finding of the outside probe (login limits under concurrency and per client address).
#[actix_web::test]
async fn simultaneous_wrong_passwords_for_one_email_check_at_most_five() {
    let app = burst_app().await;
    app.organiser("target@example.org", false).await;
    let statuses = logins_at_once(
        &app,
        20,
        |_| "target@example.org".to_string(),
        "wrong password, really",
        |_| None,
    )
    .await;
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        20,
        "{statuses:?}"
    );
    assert!(count(&statuses, 401) <= 5, "{statuses:?}");
    assert!(count(&statuses, 429) >= 15, "{statuses:?}");
    // Locked from this address, even with the right password.
    let (s, _) = login(&app, "target@example.org", PASSWORD, None).await;
    assert_eq!(s, 429);
}

// A finding of the outside probe (login limits under concurrency and per client address).
#[actix_web::test]
async fn simultaneous_wrong_passwords_from_one_address_check_at_most_thirty() {
    let app = burst_app().await;
    // Sixty different emails (no per-email limit is reached), one address.
    let statuses = logins_at_once(
        &app,
        60,
        |i| format!("probe{i}@example.org"),
        "wrong password, really",
        |_| None,
    )
    .await;
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        60,
        "{statuses:?}"
    );
    assert!(count(&statuses, 401) <= 30, "{statuses:?}");
    assert!(count(&statuses, 429) >= 30, "{statuses:?}");
}

// A finding of the outside probe (login limits under concurrency and per client address).
#[actix_web::test]
async fn a_strangers_failures_do_not_lock_the_user_out_from_elsewhere() {
    let mut options = test_options();
    options.trusted_proxies =
        plenary::config::TrustedProxies::parse("127.0.0.1, ::1").expect("proxies");
    options.login_limits.per_email_total = 8;
    let app = spawn_app_with(options).await;
    app.organiser("victim@example.org", false).await;
    let stranger = Some("203.0.113.7");
    for _ in 0..5 {
        let (s, _) = login(&app, "victim@example.org", "guess guess guess", stranger).await;
        assert_eq!(s, 401);
    }
    assert_eq!(
        login(&app, "victim@example.org", PASSWORD, stranger)
            .await
            .0,
        429
    );
    // The user, from another address: not locked out.
    assert_eq!(
        login(&app, "victim@example.org", PASSWORD, Some("198.51.100.2"))
            .await
            .0,
        200
    );
    // A proxy chain: the rightmost untrusted hop is the client.
    assert_eq!(
        login(
            &app,
            "victim@example.org",
            PASSWORD,
            Some("203.0.113.7, 198.51.100.3, 127.0.0.1")
        )
        .await
        .0,
        200
    );
    // The per-email ceiling across addresses (8 here) still holds.
    for i in 0..3 {
        let from = format!("192.0.2.{i}");
        let (s, _) = login(&app, "victim@example.org", "guess guess guess", Some(&from)).await;
        assert_eq!(s, 401);
    }
    assert_eq!(
        login(&app, "victim@example.org", PASSWORD, Some("192.0.2.200"))
            .await
            .0,
        429
    );
}

// A finding of the outside probe (login limits under concurrency and per client address).
#[actix_web::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    app.organiser("direct@example.org", false).await;
    for i in 0..5 {
        let from = format!("203.0.113.{i}");
        let (s, _) = login(&app, "direct@example.org", "guess guess guess", Some(&from)).await;
        assert_eq!(s, 401);
    }
    // Every attempt came from 127.0.0.1 whatever the header said: locked there.
    let (s, _) = login(&app, "direct@example.org", PASSWORD, Some("198.51.100.9")).await;
    assert_eq!(s, 429);
}

// A finding of the outside probe (login limits under concurrency and per client address).
#[actix_web::test]
async fn rate_limited_logins_say_when_to_retry() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            login(&app, "retry@example.org", "guess guess", None)
                .await
                .0,
            401
        );
    }
    let (s, retry) = login(&app, "retry@example.org", "guess guess", None).await;
    assert_eq!(s, 429);
    assert!(retry.is_some_and(|s| (1..=900).contains(&s)), "{retry:?}");
}

/// Generated from the route table: every read under a conference, asked by an organiser of
/// another conference, answers what an anonymous caller gets when that is public (below 400),
/// and 403 or 404 otherwise: no organisers' read (members, badges, the queue, messages,
/// webhooks, check-ins, the log, badges.html ...) reaches someone without a grant on it.
#[actix_web::test]
async fn reads_of_a_conference_are_refused_to_another_organiser() {
    let app = spawn_app().await;
    let owner = app.organiser("reads-owner@example.org", false).await;
    let other = app.organiser("reads-other@example.org", false).await;
    let values = world(&app, &owner).await;
    let mut checked = 0;
    for (method, route) in routes() {
        if method != "GET" || !route.starts_with("/api/v1/conferences/{c}") {
            continue;
        }
        let path = fill(&route, &values);
        let (anonymous, _) = app.get(&path, None).await;
        let (status, body) = app.get(&path, Some(&other.token)).await;
        if anonymous < 400 {
            assert_eq!(status, anonymous, "{path} is public: {body}");
        } else {
            assert!(
                status == 403 || status == 404,
                "another organiser: GET {path}: {status} (anonymous {anonymous}) {body}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "the route table lost its reads: {checked}");
}
