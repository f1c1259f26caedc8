//! Findings of the outside probe: login limits under concurrency and per client address,
//! Idempotency-Key replays for dead accounts, problem+json for the layers' own errors, slow
//! request bodies, and account enumeration through `POST .../organisers`.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, test_options, TestApp, PASSWORD};

/// Sends `n` logins at once (`email` of each from `emails(i)`), each from the forwarded
/// address `xff(i)` when given; answers the statuses.
/// A server for bursts of simultaneous logins: these tests are about the limiter's
/// atomicity, so the pool waits long enough for a busy 2-core machine instead of answering
/// 503 (the pool timeout has its own test in `resilience`).
async fn burst_app() -> TestApp {
    let mut options = test_options();
    options.pool.timeout = std::time::Duration::from_secs(30);
    spawn_app_with(options).await
}

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

async fn post_organisation_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/api/v1/organisations", app.address))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    status_json(r).await
}

#[actix_web::test]
async fn a_disabled_organisers_key_is_not_replayed() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use plenary::db::schema::organisers;
    let app = spawn_app().await;
    let o = app.organiser("leaving@example.org", false).await;
    let body = json!({"name": "International Labour Organization", "kind": "intergovernmental"});
    let (s, _) = post_organisation_with_key(&app, &o.token, "create-ilo", &body).await;
    assert_eq!(s, 201);
    let mut conn = app.conn().await;
    diesel::update(organisers::table.find(o.id))
        .set(organisers::disabled_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("disable");
    let (s, problem) = post_organisation_with_key(&app, &o.token, "create-ilo", &body).await;
    assert_eq!(
        (s, problem["status"].as_u64()),
        (401, Some(401)),
        "{problem}"
    );
}

#[actix_web::test]
async fn an_oversized_body_with_an_idempotency_key_is_problem_json() {
    let app = spawn_app().await;
    let o = app.organiser("big@example.org", false).await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = app
        .client
        .post(format!("{}/api/v1/organisations", app.address))
        .bearer_auth(&o.token)
        .header("idempotency-key", "big-1")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (s, problem) = status_json(r).await;
    assert_eq!(s, 413);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(problem["status"], 413);
}

/// Sends the head of a POST announcing a 1000-byte body over raw TCP, then one byte every
/// 200 ms; answers the first line of the response and how long it took (or an error after
/// 8 s without an answer).
fn dribble(address: &str, headers: &str) -> Result<(String, String, Duration), String> {
    let host = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST /api/v1/organisations HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n{headers}\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(8) {
        let _ = stream.write_all(b" ");
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) if !answer.is_empty() => break,
            Ok(0) => return Err("closed without an answer".to_string()),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !answer.is_empty() {
                    break;
                }
            }
            Err(e) if !answer.is_empty() => {
                let _ = e;
                break;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.lines().next().unwrap_or_default().to_string();
    if status.is_empty() {
        return Err("no answer within 8 s".to_string());
    }
    Ok((status, text, started.elapsed()))
}

#[actix_web::test]
async fn a_body_sent_too_slowly_is_refused_with_408() {
    let mut options = test_options();
    options.body_timeout = Duration::from_secs(1);
    let app = spawn_app_with(options).await;
    let o = app.organiser("slow@example.org", false).await;
    let auth = format!("Authorization: Bearer {}\r\n", o.token);
    // Read by the handler, and by the Idempotency-Key layer.
    for headers in [auth.clone(), format!("{auth}Idempotency-Key: slow-1\r\n")] {
        let address = app.address.clone();
        let answer = tokio::task::spawn_blocking(move || dribble(&address, &headers))
            .await
            .expect("join");
        let (status, text, took) = answer.expect("an answer");
        assert!(status.starts_with("HTTP/1.1 408"), "{text}");
        assert!(
            text.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{text}"
        );
        assert!(took < Duration::from_secs(4), "{took:?}");
    }
}

#[actix_web::test]
async fn adding_an_organiser_does_not_reveal_whether_an_account_exists() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    app.organiser("real@example.org", false).await;
    let c = app.conference(&owner, "published").await;
    let path = format!(
        "/api/v1/conferences/{}/organisers",
        c["id"].as_str().unwrap_or_default()
    );
    let (s_real, real) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"email": "real@example.org", "role": "editor"}),
        )
        .await;
    let (s_ghost, ghost) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"email": "ghost@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!((s_real, s_ghost), (202, 202));
    assert_eq!(real, json!({"email": "real@example.org", "role": "editor"}));
    assert_eq!(
        ghost,
        json!({"email": "ghost@example.org", "role": "editor"})
    );
    // The account got the role; the unknown email changed nothing.
    let (_, list) = app.get(&path, Some(&owner.token)).await;
    let emails: Vec<&str> = list["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["email"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(emails, vec!["owner@example.org", "real@example.org"]);
}

/// A raw HTTP/1.1 connection to `app` from the loopback address `source` that sends the head
/// of a `POST` to `path` announcing `length` body bytes, then the first `sent` of them (the
/// rest left for later, or never).
async fn announce(
    app: &TestApp,
    source: &str,
    path: &str,
    token: &str,
    length: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let host = app.address.trim_start_matches("http://");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("source address"))
        .expect("bind");
    let mut stream = socket
        .connect(host.parse().expect("server address"))
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
        .write_all(&vec![b' '; sent])
        .await
        .expect("first bytes");
    stream
}

/// The status line and lower-cased head of the answer on `stream` (within 5 s), its body
/// read as `Content-Length` says.
async fn answer(stream: &mut tokio::net::TcpStream) -> (String, String, Value) {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let head = text[..end].to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    let body = serde_json::from_slice(&got[end + 4..end + 4 + length])
                        .unwrap_or(Value::Null);
                    let status = head.lines().next().unwrap_or_default().to_string();
                    return (status, head, body);
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return (String::new(), text, Value::Null),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("an answer within 5 s")
}

/// Checks that the answer on `stream` has `status` and a problem whose detail contains
/// `detail`; answers its head and problem.
async fn refused(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    detail: &str,
) -> (String, Value) {
    let (line, head, problem) = answer(stream).await;
    assert!(line.starts_with(&format!("http/1.1 {status}")), "{head}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(detail)),
        "{problem}"
    );
    (head, problem)
}

#[actix_web::test]
async fn bodies_in_flight_have_a_budget_in_total_and_per_address() {
    use tokio::io::AsyncWriteExt;
    const MIB: usize = 1 << 20;
    let mut options = test_options();
    options.body_budget.per_address_bytes = MIB + MIB / 2;
    options.body_budget.total_bytes = 2 * MIB + MIB / 2;
    let app = spawn_app_with(options).await;
    let o = app.organiser("budget@example.org", false).await;
    let path = "/api/v1/organisations";
    let length = MIB - 20;
    // 127.0.0.1 holds about 1 MiB with a stalled upload...
    let mut first = announce(&app, "127.0.0.1", path, &o.token, length, 1000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so its second upload passes its address's budget: 503 before the body is sent.
    let mut second = announce(&app, "127.0.0.1", path, &o.token, length, 0).await;
    let (head, problem) = refused(&mut second, "503", "from your address").await;
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert_eq!(
        problem["type"], "/problems/body-budget-exceeded",
        "{problem}"
    );
    // Another address still has room, until the total is held.
    let other = announce(&app, "127.0.0.2", path, &o.token, length, 1000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = announce(&app, "127.0.0.3", path, &o.token, length, 0).await;
    refused(&mut third, "503", "the server's").await;
    // A Content-Length over the route's limit is 413 at once, budget or not.
    let mut login = announce(&app, "127.0.0.4", "/api/v1/auth/token", "-", 20 << 10, 0).await;
    refused(&mut login, "413", "16 KiB").await;
    // The first upload finishes (answered, whatever it was), the other one's client goes
    // away: both reservations are given back, and uploads are accepted again.
    first
        .write_all(&vec![b' '; length - 1000])
        .await
        .expect("the rest");
    let (status, head, _) = answer(&mut first).await;
    assert!(status.starts_with("http/1.1 400"), "{head}");
    drop(other);
    // From the abandoned upload's address: accepted only once its reservation is given back.
    let started = Instant::now();
    loop {
        let mut fits = announce(&app, "127.0.0.2", path, &o.token, length, 0).await;
        fits.write_all(&vec![b' '; length]).await.expect("body");
        let (status, head, _) = answer(&mut fits).await;
        if !status.starts_with("http/1.1 503") {
            assert!(status.starts_with("http/1.1 400"), "{head}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still refused: {head}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, created) = app
        .post(
            path,
            Some(&o.token),
            &json!({"name": "Budget Organisation", "kind": "other"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
}
