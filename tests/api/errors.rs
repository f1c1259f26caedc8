//! Every error is problem+json, including actix's own 404, 405, 413 and 415; and the layers'
//! own refusals of request bodies (408 too slow, 503 past the budget of bodies in flight).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    problem_fields, spawn_app, spawn_app_with, status_json, test_options, Response, TestApp,
};

async fn assert_problem(r: Response, status: u16) -> serde_json::Value {
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (s, body) = status_json(r).await;
    assert_eq!(s, status, "{body}");
    assert_eq!(ct, "application/problem+json");
    problem_fields(&body, status);
    body
}

#[actix_web::test]
async fn unknown_route_is_404_problem() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/api/v1/nope", None, None).await;
    assert_problem(r, 404).await;
}

#[actix_web::test]
async fn wrong_method_is_405_problem() {
    let app = spawn_app().await;
    let r = app
        .request(Method::PUT, "/api/v1/countries", None, None)
        .await;
    assert_problem(r, 405).await;
    let r = app
        .request(Method::DELETE, "/health/live", None, None)
        .await;
    assert_problem(r, 405).await;
}

#[actix_web::test]
async fn non_uuid_path_is_404_problem() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/api/v1/conferences/not-a-uuid", None, None)
        .await;
    assert_problem(r, 404).await;
}

#[actix_web::test]
async fn body_errors_are_400_415_413_and_422() {
    let app = spawn_app().await;
    let o = app.organiser("errors@example.org", false).await;
    let url = format!("{}/api/v1/conferences", app.address);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&o.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_problem(r, 400).await;
    let r = app
        .client
        .post(&url)
        .bearer_auth(&o.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_problem(r, 415).await;
    let big = format!("{{\"title\": \"{}\"}}", "a".repeat(1_100_000));
    let r = app
        .client
        .post(&url)
        .bearer_auth(&o.token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("send");
    assert_problem(r, 413).await;
    // Every invalid field at once, unknown fields refused.
    let r = app
        .request(
            Method::POST,
            "/api/v1/conferences",
            Some(&o.token),
            Some(&json!({"title": 5, "status": "maybe", "id": "x", "created_at": "now"})),
        )
        .await;
    let body = assert_problem(r, 422).await;
    let fields = problem_fields(&body, 422);
    for f in [
        "title",
        "status",
        "id",
        "created_at",
        "start_date",
        "end_date",
        "time_zone",
        "venue",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
}

/// A new user's trial found `{"title":"A","title":"B"}` accepted with the last value
/// winning: a key given twice is 400 and changes nothing, wherever JSON is read (one parser).
#[actix_web::test]
async fn a_key_given_twice_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("KH").build().await;
    let token = f.owner.token.as_str();
    let conference = format!("/api/v1/conferences/{}", f.conference);
    let (_, before) = app.get(&conference, Some(token)).await;
    let focal_points = format!("{}/focal-points", f.delegation_path(0));
    for (method, path, body) in [
        (
            Method::PATCH,
            conference.clone(),
            r#"{"title":"A","title":"B"}"#.to_string(),
        ),
        (
            Method::POST,
            focal_points.clone(),
            r#"{"email":"a@example.org","name":"A","email":"b@example.org"}"#.to_string(),
        ),
        (
            Method::POST,
            format!("{conference}/delegations"),
            r#"{"country":"TH","head":{"name":"A","name":"B"}}"#.to_string(),
        ),
        (
            Method::POST,
            "/api/v1/auth/token".to_string(),
            r#"{"email":"x@example.org","password":"p","password":"q"}"#.to_string(),
        ),
    ] {
        let r = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("send");
        let problem = assert_problem(r, 400).await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("twice"),
            "{method} {path} {body}: {problem}"
        );
    }
    let (_, after) = app.get(&conference, Some(token)).await;
    assert_eq!(before, after, "the conference is unchanged");
    let (_, fps) = app.get(&focal_points, Some(token)).await;
    assert_eq!(fps["items"], json!([]), "no focal point was invited: {fps}");
    let (_, delegations) = app
        .get(&format!("{conference}/delegations"), Some(token))
        .await;
    assert_eq!(
        delegations["items"].as_array().map(Vec::len),
        Some(1),
        "no delegation was added: {delegations}"
    );
}

#[actix_web::test]
async fn bad_query_parameters_are_422() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/v1/conferences?limit=0", "limit"),
        ("/api/v1/conferences?limit=201", "limit"),
        ("/api/v1/conferences?limit=abc", "limit"),
        ("/api/v1/conferences?cursor=garbage!", "cursor"),
        ("/api/v1/conferences?from=2025-13-01", "from"),
        ("/api/v1/conferences?status=maybe", "status"),
        ("/api/v1/conferences?country=Atlantis", "country"),
        ("/api/v1/organisations?kind=club", "kind"),
    ] {
        let (s, body) = app.get(path, None).await;
        assert_eq!(s, 422, "{path}: {body}");
        assert!(
            problem_fields(&body, 422).contains(&field.to_string()),
            "{path}: {body}"
        );
    }
}

/// Regression (issue 3): a NUL in a search parameter reached PostgreSQL, which refuses NUL in
/// text, and the answer was a 500.
#[actix_web::test]
async fn control_characters_in_query_parameters_are_422_not_500() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/v1/countries?q=%00", "q"),
        ("/api/v1/organisations?q=a%00b", "q"),
        ("/api/v1/conferences?q=%00", "q"),
        ("/api/v1/conferences?q=x&participant=K%00H", "participant"),
        ("/api/v1/countries/KH/attendance?from=%01", "from"),
    ] {
        let (s, body) = app.get(path, None).await;
        assert_eq!(s, 422, "{path}: {body}");
        assert_eq!(
            problem_fields(&body, 422),
            vec![field.to_string()],
            "{path}"
        );
    }
}

/// Regression (issue 3): a forged cursor whose date lies outside PostgreSQL's range, or whose
/// text holds a NUL, reached the database and the answer was a 500.
#[actix_web::test]
async fn forged_cursors_are_422_not_500() {
    use base64::Engine;
    let app = spawn_app().await;
    app.import_data().await;
    let cursor = |key: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
    };
    let id = "019954f8-9000-7a00-8000-17a9f0c0e000";
    for path in [
        format!(
            "/api/v1/conferences?cursor={}",
            cursor(json!(["-200000-01-01", id]))
        ),
        format!(
            "/api/v1/countries/KH/attendance?cursor={}",
            cursor(json!(["+200000-01-01", id]))
        ),
        format!(
            "/api/v1/conferences/{id}/sessions?cursor={}",
            cursor(json!(["-200000-01-01T00:00:00Z", id]))
        ),
        format!("/api/v1/countries?cursor={}", cursor(json!("K\u{0}"))),
    ] {
        let (s, body) = app.get(&path, None).await;
        assert_eq!(s, 422, "{path}: {body}");
        assert_eq!(problem_fields(&body, 422), vec!["cursor".to_string()]);
    }
    // A genuine cursor still pages.
    let (s, page) = app.get("/api/v1/countries?limit=2", None).await;
    assert_eq!(s, 200);
    let next = page["next_cursor"].as_str().unwrap_or_default().to_string();
    let (s, page2) = app
        .get(&format!("/api/v1/countries?limit=2&cursor={next}"), None)
        .await;
    assert_eq!((s, page2["items"][0]["code"].as_str()), (200, Some("AF")));
}

// A finding of the outside probe (problem+json for the layers' own errors).
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

// A finding of the outside probe (slow request bodies).
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

// A finding of the outside probe (many stalled request bodies exhausted memory).
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

// 2 500 refused uploads of 1 MiB held 555 MiB: what a client still sends of a refused body is
// now dropped as it arrives, and it must still get its answer and then an orderly close.
#[actix_web::test]
async fn the_rest_of_a_refused_body_is_drained_and_the_connection_closes_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let length = 1 << 20;
    let mut login = announce(&app, "127.0.0.5", "/api/v1/auth/token", "-", length, 0).await;
    let (head, _) = refused(&mut login, "413", "16 KiB").await;
    assert!(head.contains("connection: close"), "{head}");
    // The whole body after the answer, and 16 MiB more, past what the sockets' buffers hold:
    // it all goes through only if the server reads it away while it lingers (1 s).
    let chunk = vec![b' '; 64 << 10];
    // (About 10 ms here, debug build.)
    let sent = tokio::time::timeout(Duration::from_millis(900), async {
        for _ in 0..(length + (16 << 20)) / chunk.len() {
            login.write_all(&chunk).await?;
        }
        std::io::Result::Ok(())
    })
    .await;
    assert!(
        matches!(sent, Ok(Ok(()))),
        "the server keeps reading the refused body: {sent:?}"
    );
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(5), login.read_to_end(&mut rest))
        .await
        .expect("closed within 5 s");
    assert!(end.is_ok(), "an orderly close, not a reset: {end:?}");
    assert!(rest.is_empty(), "nothing after the answer: {rest:?}");
    // The server answers the next client as before.
    let (s, _) = app.get("/health/live", None).await;
    assert_eq!(s, 200);
}

// A finding of the second probe: an anonymous login of 0.98 MB with 90 000 unknown keys got a
// 4.75 MB 422. At most 100 field errors are listed; `errors_omitted` counts the rest.
#[actix_web::test]
async fn a_422_lists_at_most_100_errors_then_counts_the_rest() {
    let app = spawn_app().await;
    let mut body = serde_json::Map::new();
    for i in 0..1500 {
        body.insert(format!("k{i}"), json!(0));
    }
    let sent = serde_json::to_vec(&body).unwrap_or_default();
    let r = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("content-type", "application/json")
        .body(sent.clone())
        .send()
        .await
        .expect("send");
    let answer = r.body().len();
    let problem = assert_problem(r, 422).await;
    let listed = problem["errors"].as_array().map_or(0, Vec::len);
    let omitted = problem["errors_omitted"].as_u64().unwrap_or(0);
    assert_eq!(listed, 100, "{problem}");
    assert!(omitted >= 1400, "{omitted}");
    assert_eq!(
        listed as u64 + omitted,
        1500 + 2,
        "1500 unknown keys, email and password"
    );
    assert!(
        answer < 12_000 && answer < sent.len(),
        "{answer} bytes for {}",
        sent.len()
    );
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.ends_with(&format!("and {omitted} more")), "{detail}");
    // A few errors: all listed, no count.
    let (s, few) = app
        .post("/api/v1/auth/token", None, &json!({"email": 1}))
        .await;
    assert_eq!(s, 422);
    assert!(few.get("errors_omitted").is_none(), "{few}");
}
