//! E-mail through a real SMTP server (API.md, "Notifications: e-mail and webhooks"): the test
//! server's sender talks SMTP (`PLENARY_SMTP_URL`) to an aiosmtpd sink
//! (`tests/api/py/smtp_sink.py`) that keeps every message raw, as received, and answers 451
//! or 550 when told to; what it received is read back with Python's `email` package
//! (`tests/api/py/mail_parse.py`), a parser of its own.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app_with, test_options, TestApp};
use crate::python::{parse_with, python, script_path};

/// A running aiosmtpd sink; stopped when dropped.
struct Sink {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Sink {
    /// Starts a sink with `rules` (`STAGE:ADDRESS:CODE[:TIMES]`, see `smtp_sink.py`). Runs on
    /// the blocking pool: the first use may create the virtualenv.
    async fn start(rules: &[&str]) -> Sink {
        Sink::start_with(rules, 0).await
    }

    /// A sink with `rules` that holds every message `delay_ms` before it accepts it.
    async fn start_with(rules: &[&str], delay_ms: u64) -> Sink {
        let rules: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
        tokio::task::spawn_blocking(move || Sink::start_blocking(&rules, delay_ms))
            .await
            .expect("sink task")
    }

    fn start_blocking(rules: &[String], delay_ms: u64) -> Sink {
        let dir = std::env::temp_dir().join(format!("plenary-smtp-sink-{}", Uuid::now_v7()));
        let mut cmd = Command::new(python());
        cmd.arg(script_path("smtp_sink.py"))
            .arg("--dir")
            .arg(&dir)
            .arg("--delay-ms")
            .arg(delay_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for r in rules {
            cmd.arg("--rule").arg(r);
        }
        let mut child = cmd.spawn().expect("spawn the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("sink stdout"))
            .read_line(&mut line)
            .expect("the sink's port");
        let ready: Value = serde_json::from_str(&line).expect("the sink printed its port");
        let port = ready["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("a port");
        Sink { child, dir, port }
    }

    /// `smtp://127.0.0.1:<port>`.
    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw, in the order received.
    fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }

    /// The messages received for `address` (its `To` header), parsed; waits up to 10 s for
    /// `count` of them.
    async fn wait_for(&self, address: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut found = Vec::new();
            for raw in self.received() {
                let mail = parse_with("mail_parse.py", &raw).await;
                if mail["to_addresses"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == address))
                {
                    found.push(mail);
                }
            }
            if found.len() >= count || Instant::now() > deadline {
                assert!(
                    found.len() >= count,
                    "{count} e-mail(s) to {address} expected; the sink has {}",
                    found.len()
                );
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A test server whose sender delivers to `sink`, retrying after `retry_ms`.
async fn app_for(sink: &Sink, retry_ms: u64) -> TestApp {
    let mut options = test_options();
    options.notify.smtp_url = Some(sink.url().into());
    options.notify.retry_base = Duration::from_millis(retry_ms);
    spawn_app_with(options).await
}

/// The conference's e-mails as organisers read them (`GET .../messages`), newest first.
async fn messages(app: &TestApp, conference: &str, token: &str) -> Vec<Value> {
    let (s, list) = app
        .get(
            &format!("/api/v1/conferences/{conference}/messages"),
            Some(token),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Waits (up to 10 s) until the e-mail to `to` is no longer pending, and returns its state.
async fn settled(app: &TestApp, conference: &str, token: &str, to: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = messages(app, conference, token)
            .await
            .into_iter()
            .find(|m| m["to"] == to);
        if let Some(m) = &found {
            if m["status"] != "pending" || Instant::now() > deadline {
                return m.clone();
            }
        }
        assert!(Instant::now() < deadline, "no e-mail to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The outbox payload of e-mail `id`.
async fn payload(app: &TestApp, id: &str) -> Value {
    use plenary::db::schema::outbox::dsl as o;
    let mut conn = app.conn().await;
    o::outbox
        .filter(o::id.eq(Uuid::parse_str(id).expect("a UUID")))
        .select(o::payload)
        .first(&mut conn)
        .await
        .expect("the outbox row")
}

/// The invitation code in an invitation's text: the indented line after "usable once):".
fn code_in(text: &str) -> String {
    text.lines()
        .skip_while(|l| !l.contains("usable once"))
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains("usable once"))
        .unwrap_or_default()
        .to_string()
}

/// The `content` of the part of type `ty`.
fn part<'a>(mail: &'a Value, ty: &str) -> &'a str {
    mail["parts"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["content_type"] == ty))
        .and_then(|p| p["content"].as_str())
        .unwrap_or_default()
}

#[actix_web::test]
async fn the_invitation_arrives_by_smtp_as_a_mail_client_reads_it_and_its_code_works() {
    let sink = Sink::start(&[]).await;
    let app = app_for(&sink, 200).await;
    let f = app.fixture().delegation("VN").build().await;
    let (s, c) = app
        .patch(
            &format!("/api/v1/conferences/{}", f.conference),
            Some(&f.owner.token),
            &json!({"title": "Hội nghị Bộ trưởng ASEAN"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let email = "huong.nguyen@mofa.gov.vn";
    let name = "Nguyễn Thị Hương";
    let (s, fp) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": name}),
        )
        .await;
    assert_eq!(s, 201, "{fp}");

    let mut mails = sink.wait_for(email, 1).await;
    let mail = mails.remove(0);
    let raw = sink.received().remove(0);
    let _ = std::fs::write(std::env::temp_dir().join("smtp-invitation.eml"), &raw);
    assert_eq!(mail["defects"], json!([]), "{mail}");
    assert_eq!(mail["from"], "Plenary <plenary@localhost>", "{mail}");
    assert_eq!(mail["to_names"], json!([name]), "{mail}");
    assert_eq!(mail["to_addresses"], json!([email]), "{mail}");
    let subject = mail["subject"].as_str().unwrap_or_default();
    assert!(
        subject.contains("Hội nghị Bộ trưởng ASEAN") && subject.contains("Viet"),
        "{subject}"
    );
    assert_eq!(mail["content_type"], "multipart/alternative", "{mail}");
    let types: Vec<&str> = mail["parts"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["content_type"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(types, ["text/plain", "text/html"], "{mail}");
    assert!(mail["parts"]
        .as_array()
        .is_some_and(|ps| ps.iter().all(|p| p["charset"] == "utf-8")));
    let text = part(&mail, "text/plain");
    let html = part(&mail, "text/html");
    assert!(text.contains(&format!("Dear {name}")), "{text}");
    assert!(text.contains("Hội nghị Bộ trưởng ASEAN"), "{text}");
    let code = code_in(text);
    assert!(code.len() >= 22, "{text}");
    assert!(html.contains(&code), "{html}");

    // The Message-ID is the outbox row's id; the row says sent, once, with no error.
    let state = settled(&app, &f.conference, &f.owner.token, email).await;
    let id = state["id"].as_str().unwrap_or_default();
    assert_eq!(mail["message_id"], format!("<{id}@localhost>"), "{mail}");
    assert_eq!(
        (&state["status"], &state["attempts"], &state["last_error"]),
        (&json!("sent"), &json!(1), &Value::Null),
        "{state}"
    );
    assert!(payload(&app, id).await.get("code").is_none());

    // The code as received accepts the invitation.
    let (s, token) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": code, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(s, 200, "{token}");
    assert!(token["access_token"].is_string(), "{token}");
    assert_eq!(sink.received().len(), 1);
}

#[actix_web::test]
async fn a_451_is_retried_until_the_server_takes_the_message_once() {
    let email = "fp@mfa.gov.kh";
    // The first RCPT and then the first DATA are refused for now: two transient failures.
    let sink = Sink::start(&[
        &format!("rcpt:{email}:451:1"),
        &format!("data:{email}:451:1"),
    ])
    .await;
    let app = app_for(&sink, 500).await;
    let f = app.fixture().delegation("KH").build().await;
    let (s, fp) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Sok Chea"}),
        )
        .await;
    assert_eq!(s, 201, "{fp}");

    // Between the attempts it is pending, with the server's answer as its last error.
    let deadline = Instant::now() + Duration::from_secs(10);
    let between = loop {
        let m = messages(&app, &f.conference, &f.owner.token)
            .await
            .remove(0);
        if !m["last_error"].is_null() || Instant::now() > deadline {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(between["status"], "pending", "{between}");
    assert!(
        between["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("451")),
        "{between}"
    );

    let mails = sink.wait_for(email, 1).await;
    let state = settled(&app, &f.conference, &f.owner.token, email).await;
    assert_eq!(state["status"], "sent", "{state}");
    assert_eq!(state["attempts"], 3, "{state}");
    assert_eq!(state["last_error"], Value::Null, "{state}");
    assert!(!state["sent_at"].is_null(), "{state}");
    let id = state["id"].as_str().unwrap_or_default();
    assert_eq!(mails[0]["message_id"], format!("<{id}@localhost>"));
    assert!(payload(&app, id).await.get("code").is_none());
    // Delivered once: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1);
}

#[actix_web::test]
async fn a_550_fails_the_message_at_once_and_erases_its_code() {
    let email = "nobody@mofa.go.th";
    let sink = Sink::start(&[&format!("rcpt:{email}:550")]).await;
    let app = app_for(&sink, 200).await;
    let f = app.fixture().delegation("TH").build().await;
    let (s, fp) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Somchai Jaidee"}),
        )
        .await;
    assert_eq!(s, 201, "{fp}");
    let state = settled(&app, &f.conference, &f.owner.token, email).await;
    assert_eq!(state["status"], "failed", "{state}");
    assert_eq!(state["attempts"], 1, "{state}");
    assert!(
        state["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("550")),
        "{state}"
    );
    let id = state["id"].as_str().unwrap_or_default();
    let p = payload(&app, id).await;
    assert!(p.get("code").is_none(), "{p}");
    // Not tried again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let state = settled(&app, &f.conference, &f.owner.token, email).await;
    assert_eq!(state["attempts"], 1, "{state}");
    assert!(sink.received().is_empty());
}

#[actix_web::test]
async fn a_write_that_rolls_back_sends_nothing_to_the_smtp_server() {
    let sink = Sink::start(&[]).await;
    let app = app_for(&sink, 200).await;
    let f = app.fixture().delegation("CN").build().await;
    let path = format!("{}/focal-points", f.delegation_path(0));
    let email = "wang.xiaoming@fmprc.gov.cn";
    let body = json!({"email": email, "name": "王小明"});
    let (s, _) = app.post(&path, Some(&f.owner.token), &body).await;
    assert_eq!(s, 201);
    let mails = sink.wait_for(email, 1).await;
    assert_eq!(mails[0]["to_names"], json!(["王小明"]));
    // The same address again is 409, twice: those writes roll back with their e-mails.
    for _ in 0..2 {
        let (s, e) = app.post(&path, Some(&f.owner.token), &body).await;
        assert_eq!(s, 409, "{e}");
    }
    // An invalid one is 422 and queues nothing either.
    let (s, _) = app
        .post(
            &path,
            Some(&f.owner.token),
            &json!({"email": "not an address", "name": "X"}),
        )
        .await;
    assert_eq!(s, 422);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1);
    let all = messages(&app, &f.conference, &f.owner.token).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["status"], "sent");
}

#[actix_web::test]
async fn a_delivery_whose_record_was_cut_off_is_recorded_on_reconnecting_not_sent_again() {
    // The relay takes 1.5 s to accept; meanwhile the sender's database connection is cut.
    let sink = Sink::start_with(&[], 1500).await;
    let mut options = test_options();
    options.notify.smtp_url = Some(sink.url().into());
    options.notify.lease = Duration::from_secs(4);
    let app = spawn_app_with(options).await;
    let f = app.fixture().delegation("MY").build().await;
    let email = "siti.aminah@kln.gov.my";
    let (s, fp) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Siti Aminah"}),
        )
        .await;
    assert_eq!(s, 201, "{fp}");
    // Once claimed, the connection that claimed it (its last statement) is terminated.
    let mut conn = app.conn().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        #[derive(QueryableByName)]
        struct Cut {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let cut: Cut = diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND query LIKE 'UPDATE outbox AS o SET leased_until%' \
             AND EXISTS (SELECT 1 FROM outbox WHERE attempts > 0)",
        )
        .get_result(&mut conn)
        .await
        .expect("terminate");
        if cut.n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the sender never claimed it");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sink.wait_for(email, 1).await;
    // Well past the 4 s lease and a second delivery's 1.5 s: recorded as sent once, not
    // taken again.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let state = settled(&app, &f.conference, &f.owner.token, email).await;
    assert_eq!(
        (&state["status"], &state["attempts"]),
        (&json!("sent"), &json!(1)),
        "{state}"
    );
    assert_eq!(sink.received().len(), 1);
}

#[actix_web::test]
async fn a_delivery_slower_than_the_lease_is_given_up_before_the_lease_runs_out() {
    // The relay takes 5 s to accept; the lease is 2 s: the sender gives up first, so that no
    // other instance could take the message while this one might still be sending it.
    let sink = Sink::start_with(&[], 5000).await;
    let mut options = test_options();
    options.notify.smtp_url = Some(sink.url().into());
    options.notify.lease = Duration::from_secs(2);
    options.notify.retry_base = Duration::from_secs(60);
    let app = spawn_app_with(options).await;
    let f = app.fixture().delegation("PH").build().await;
    let email = "maria.santos@dfa.gov.ph";
    let (s, fp) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Maria Santos"}),
        )
        .await;
    assert_eq!(s, 201, "{fp}");
    let started = Instant::now();
    let state = loop {
        let m = messages(&app, &f.conference, &f.owner.token)
            .await
            .remove(0);
        if !m["last_error"].is_null() || started.elapsed() > Duration::from_secs(4) {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "given up after {:?}",
        started.elapsed()
    );
    assert_eq!(
        (&state["status"], &state["attempts"]),
        (&json!("pending"), &json!(1)),
        "{state}"
    );
    assert!(
        state["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("lease")),
        "{state}"
    );
}
