//! Idempotency-Key on POST: replay, 422 on another body, 409 while running, per organiser,
//! 24-hour expiry; exactly once when the server dies between COMMIT and its answer.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use plenary::db::schema::{audit_log, idempotency_keys, organisations};
use plenary::store::idempotency::{self as keys, StoredResponse};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, TestApp};

async fn post_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let r = app
        .client
        .post(format!("{}/api/v1/organisations", app.address))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (s, b) = status_json(r).await;
    (s, b, replayed)
}

async fn count(app: &TestApp) -> i64 {
    let mut conn = app.conn().await;
    organisations::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

#[actix_web::test]
async fn a_retry_replays_the_first_response_and_creates_nothing() {
    let app = spawn_app().await;
    let o = app.organiser("idem@example.org", false).await;
    let body =
        json!({"name": "International Organization for Migration", "kind": "intergovernmental"});
    let (s1, b1, r1) = post_with_key(&app, &o.token, "key-1", &body).await;
    let (s2, b2, r2) = post_with_key(&app, &o.token, "key-1", &body).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(b1, b2);
    assert_eq!((r1, r2.as_deref()), (None, Some("true")));
    assert_eq!(count(&app).await, 1);
    // Same key, another body: 422, nothing created.
    let (s, problem, _) = post_with_key(
        &app,
        &o.token,
        "key-1",
        &json!({"name": "Other", "kind": "other"}),
    )
    .await;
    assert_eq!(s, 422, "{problem}");
    assert_eq!(count(&app).await, 1);
    // Another organiser's identical key is a different key.
    let p = app.organiser("idem2@example.org", false).await;
    let (s, _, replayed) = post_with_key(
        &app,
        &p.token,
        "key-1",
        &json!({"name": "Mekong Centre", "kind": "other"}),
    )
    .await;
    assert_eq!((s, replayed), (201, None));
    assert_eq!(count(&app).await, 2);
}

#[actix_web::test]
async fn a_retry_while_the_first_runs_is_409_and_keys_expire_after_24_hours() {
    let app = spawn_app().await;
    let o = app.organiser("running@example.org", false).await;
    let body = json!({"name": "Slow Organisation", "kind": "other"});
    // First request: completes and stores its response.
    let (s, _, _) = post_with_key(&app, &o.token, "k-run", &body).await;
    assert_eq!(s, 201);
    // Pretend it is still running (no stored response yet, claimed just now).
    let mut conn = app.conn().await;
    diesel::update(idempotency_keys::table)
        .set((
            idempotency_keys::response_status.eq(None::<i32>),
            idempotency_keys::created_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await
        .expect("update");
    let (s, problem, _) = post_with_key(&app, &o.token, "k-run", &body).await;
    assert_eq!(s, 409, "{problem}");
    // 25 hours later the key is forgotten: the request runs again (and now conflicts on the
    // organisation's unique name, which proves it ran).
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::created_at.eq(chrono::Utc::now() - chrono::Duration::hours(25)))
        .execute(&mut conn)
        .await
        .expect("update");
    let (s, _, replayed) = post_with_key(&app, &o.token, "k-run", &body).await;
    assert_eq!((s, replayed), (409, None));
    assert_eq!(count(&app).await, 1);
}

#[actix_web::test]
async fn an_invalid_key_is_422() {
    let app = spawn_app().await;
    let o = app.organiser("badkey@example.org", false).await;
    let long = "k".repeat(300);
    let (s, _, _) = post_with_key(
        &app,
        &o.token,
        &long,
        &json!({"name": "X", "kind": "other"}),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(count(&app).await, 0);
}

/// POSTs `body` to `path` with `key`, asking the debug build's failpoint to kill the request
/// right after its write commits; the connection must drop unanswered.
async fn post_and_crash(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) {
    let sent = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("plenary-failpoint", "after-commit")
        .json(body)
        .send()
        .await;
    assert!(
        sent.is_err(),
        "the failpoint answered: {:?}",
        sent.map(|r| r.status())
    );
}

/// The retry of [`post_and_crash`]: status, `Location`, `ETag`, `Idempotent-Replayed`, body.
async fn retry(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, [Option<String>; 3], Value) {
    let r = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let headers = [
        header("location"),
        header("etag"),
        header("idempotent-replayed"),
    ];
    let (s, b) = status_json(r).await;
    (s, headers, b)
}

async fn audit_entries(app: &TestApp) -> i64 {
    let mut conn = app.conn().await;
    audit_log::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

#[actix_web::test]
async fn a_crash_between_commit_and_answer_is_replayed_not_run_again() {
    let app = spawn_app().await;
    let o = app.organiser("crash@example.org", false).await;
    let body = json!({"name": "Committed Before The Crash", "kind": "other"});
    post_and_crash(&app, &o.token, "/api/v1/organisations", "crash-1", &body).await;
    // The write committed, and so did its response: the retry (at once, well within the
    // 15 s an unanswered claim is kept) replays it instead of 409 or running again.
    assert_eq!(count(&app).await, 1);
    let logged = audit_entries(&app).await;
    let (s, [location, etag, replayed], replay) =
        retry(&app, &o.token, "/api/v1/organisations", "crash-1", &body).await;
    assert_eq!((s, replayed.as_deref()), (201, Some("true")), "{replay}");
    assert_eq!(replay["name"], "Committed Before The Crash");
    assert_eq!(count(&app).await, 1);
    assert_eq!(
        audit_entries(&app).await,
        logged,
        "the retry ran the write again"
    );
    // What is replayed is the resource as it is: its Location, its body and its ETag.
    let location = location.expect("Location");
    let r = app
        .client
        .get(format!("{}{location}", app.address))
        .send()
        .await
        .expect("get");
    let fresh_etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (s, fresh) = status_json(r).await;
    assert_eq!(s, 200);
    assert_eq!(fresh, replay);
    assert_eq!(etag, fresh_etag);
}

#[actix_web::test]
async fn every_audited_post_commits_its_response_with_its_write() {
    let app = spawn_app().await;
    let o = app.organiser("every@example.org", false).await;
    app.organiser("second-every@example.org", false).await;
    let t = o.token.as_str();
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let (s, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(t),
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let did = d["id"].as_str().unwrap_or_default().to_string();
    let cases = [
        (
            "/api/v1/conferences".to_string(),
            json!({"title": "Crash Conference", "start_date": "2025-09-17",
                   "end_date": "2025-09-18", "time_zone": "Asia/Shanghai",
                   "venue": {"city": "Lianyungang", "country": "CN"}}),
        ),
        (
            format!("/api/v1/conferences/{cid}/delegations"),
            json!({"country": "VN"}),
        ),
        (
            format!("/api/v1/conferences/{cid}/delegations"),
            json!({"items": [{"country": "TH"}, {"country": "LA"}]}),
        ),
        (
            format!("/api/v1/conferences/{cid}/delegations/{did}/members"),
            json!({"full_name": "Adviser Crash"}),
        ),
        (
            format!("/api/v1/conferences/{cid}/sessions"),
            json!({"title": "Crash Session", "starts_at": "2025-09-17T09:00",
                   "ends_at": "2025-09-17T10:00"}),
        ),
        (
            format!("/api/v1/conferences/{cid}/organisers"),
            json!({"email": "second-every@example.org", "role": "editor"}),
        ),
    ];
    for (i, (path, body)) in cases.iter().enumerate() {
        let key = format!("every-{i}");
        let logged = audit_entries(&app).await;
        post_and_crash(&app, t, path, &key, body).await;
        let after_crash = audit_entries(&app).await;
        assert!(after_crash > logged, "{path}: the write did not commit");
        let (s, [location, _, replayed], replay) = retry(&app, t, path, &key, body).await;
        // Adding an organiser answers 202 without a Location (it must not reveal whether an
        // account exists); every other POST creates: 201 with a Location.
        let creates = !path.ends_with("/organisers");
        let status = if creates { 201 } else { 202 };
        assert_eq!(
            (s, replayed.as_deref()),
            (status, Some("true")),
            "{path}: {replay}"
        );
        assert_eq!(location.is_some(), creates, "{path}: Location replayed?");
        assert_eq!(audit_entries(&app).await, after_crash, "{path}: ran again");
    }
}

#[actix_web::test]
async fn a_stored_response_is_never_overwritten_nor_released() {
    let app = spawn_app().await;
    let o = app.organiser("kept@example.org", false).await;
    let mut conn = app.conn().await;
    assert!(keys::claim(&mut conn, o.id, "kept", "hash")
        .await
        .expect("claim"));
    let first = StoredResponse {
        status: 201,
        headers: json!({"content-type": "application/json"}),
        body: b"{\"first\":true}".to_vec(),
    };
    let second = StoredResponse {
        status: 409,
        headers: json!({}),
        body: b"{}".to_vec(),
    };
    assert!(keys::complete(&mut conn, o.id, "kept", &first, &[])
        .await
        .expect("complete"));
    assert!(!keys::complete(&mut conn, o.id, "kept", &second, &[])
        .await
        .expect("complete"));
    keys::release(&mut conn, o.id, "kept")
        .await
        .expect("release");
    let record = keys::find(&mut conn, o.id, "kept")
        .await
        .expect("find")
        .expect("the key is kept");
    assert_eq!(record.response_status, Some(201));
    assert_eq!(record.response_body, Some(first.body));
}

// A finding of the outside probe (Idempotency-Key replays for dead accounts).
#[actix_web::test]
async fn a_disabled_organisers_key_is_not_replayed() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use plenary::db::schema::organisers;
    let app = spawn_app().await;
    let o = app.organiser("leaving@example.org", false).await;
    let body = json!({"name": "International Labour Organization", "kind": "intergovernmental"});
    let (s, _, _) = post_with_key(&app, &o.token, "create-ilo", &body).await;
    assert_eq!(s, 201);
    let mut conn = app.conn().await;
    diesel::update(organisers::table.find(o.id))
        .set(organisers::disabled_at.eq(diesel::dsl::now))
        .execute(&mut conn)
        .await
        .expect("disable");
    let (s, problem, _) = post_with_key(&app, &o.token, "create-ilo", &body).await;
    assert_eq!(
        (s, problem["status"].as_u64()),
        (401, Some(401)),
        "{problem}"
    );
}

/// A body each keyed `POST` of the route table answers 2xx to, for the callers of
/// [`replays_check_access_again_for_every_post_and_caller`]; `n` keeps repeated bodies apart.
/// `Err`: a `POST` left out of the matrix, with the reason.
fn succeeding_body(route: &str, n: usize) -> Result<Value, &'static str> {
    let unique = uuid::Uuid::now_v7();
    let country = ["VN", "TH", "LA", "MM"][n % 4];
    Ok(match route {
        "/api/v1/auth/password" => {
            return Err("a password change ends the account's tokens: its retry is 401 anyway")
        }
        "/api/v1/organisations" => json!({"name": format!("Replay Org {unique}"), "kind": "other"}),
        "/api/v1/conferences" => json!({"title": format!("Replay {unique}"),
            "start_date": "2025-09-17", "end_date": "2025-09-18", "time_zone": "Asia/Shanghai",
            "venue": {"city": "Lianyungang", "country": "CN"}}),
        "/api/v1/conferences/{c}/organisers" => {
            json!({"email": "replay-colleague@example.org", "role": "editor"})
        }
        "/api/v1/conferences/{c}/attendance/draft" => {
            json!({"text": "Delegations from Cambodia and Viet Nam attended the conference."})
        }
        "/api/v1/conferences/{c}/participants/editions" => json!({"kind": "provisional"}),
        "/api/v1/conferences/{c}/delegations" => json!({"country": country}),
        "/api/v1/conferences/{c}/delegations/{d}/members" => json!({"full_name": "Replay Member"}),
        "/api/v1/conferences/{c}/delegations/{d}/focal-points" => {
            json!({"email": format!("replay-{unique}@example.org"), "name": "Replay FP"})
        }
        "/api/v1/conferences/{c}/messages/{msg}/resend" => json!({}),
        // A bad token is a result (200 `invalid`), not an error.
        "/api/v1/conferences/{c}/check-ins" => {
            json!({"token": "not-a-badge", "nonce": format!("replay-{unique}")})
        }
        "/api/v1/conferences/{c}/delegations/{d}/members/{m}/badge/reissue" => json!({}),
        "/api/v1/conferences/{c}/webhooks" => {
            json!({"url": "http://127.0.0.1:9/replay-hook", "events": ["*"]})
        }
        "/api/v1/conferences/{c}/sessions" => json!({"title": "Replay Session",
            "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00"}),
        _ => panic!("{route}: a new POST; give it a body here"),
    })
}

/// How a caller loses the right after its keyed write; the statuses its retry may get.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loss {
    /// The account is disabled: 401 on every route.
    Disabled,
    /// A co-owner of the conference is removed from it: 403 on its routes (published).
    RemovedFromConference,
    /// The organiser grant is taken away: 403 on `/organisations` and `/conferences`.
    OrganiserGrantRemoved,
    /// A focal point's grant is revoked: 403 (or 404) on its delegation's members.
    FocalPointRevoked,
}

impl Loss {
    fn applies(self, route: &str) -> bool {
        match self {
            Loss::Disabled => true,
            Loss::RemovedFromConference => route.contains("{c}"),
            Loss::OrganiserGrantRemoved => !route.contains("{c}"),
            Loss::FocalPointRevoked => route.ends_with("/members"),
        }
    }

    fn refused(self, status: u16) -> bool {
        match self {
            Loss::Disabled => status == 401,
            Loss::RemovedFromConference | Loss::OrganiserGrantRemoved => status == 403,
            Loss::FocalPointRevoked => status == 403 || status == 404,
        }
    }
}

/// A failed `nomination_decided` e-mail of the conference of `values`, which resend accepts.
async fn resendable_message(app: &TestApp, values: &[(&str, String)]) -> String {
    let cid = values
        .iter()
        .find(|(k, _)| *k == "{c}")
        .and_then(|(_, v)| uuid::Uuid::parse_str(v).ok())
        .expect("conference id");
    app.failed_email(cid, "replay-fp@example.org")
        .await
        .to_string()
}

async fn keyed(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> (u16, bool) {
    let r = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let replayed = r.headers().get("idempotent-replayed").is_some();
    (r.status().as_u16(), replayed)
}

// A finding of the second probe: a revoked focal point still got replays of its writes (201
// with the stored member). Every keyed POST of the route table x every way a caller loses the
// right: the first request succeeds, the retry with the same key and body is refused as the
// write itself would be, never the stored 2xx.
#[actix_web::test]
async fn replays_check_access_again_for_every_post_and_caller() {
    use plenary::db::schema::{conference_organisers, organisers};
    let app = spawn_app().await;
    let owner = app.organiser("replay-owner@example.org", false).await;
    app.organiser("replay-colleague@example.org", false).await;
    let posts: Vec<String> = crate::security::write_routes()
        .into_iter()
        .filter(|(m, _)| m == "POST")
        .map(|(_, r)| r)
        .collect();
    let losses = [
        Loss::Disabled,
        Loss::RemovedFromConference,
        Loss::OrganiserGrantRemoved,
        Loss::FocalPointRevoked,
    ];
    let mut cells = 0;
    for (n, loss) in losses.into_iter().enumerate() {
        let mut values = crate::security::world(&app, &owner).await;
        // An e-mail that may be sent again (an invitation's code is gone: 409).
        let msg = resendable_message(&app, &values).await;
        values.retain(|(k, _)| *k != "{msg}");
        values.push(("{msg}", msg));
        let value = |k: &str| {
            values
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (cid, did) = (value("{c}"), value("{d}"));
        let cid_uuid = uuid::Uuid::parse_str(&cid).expect("conference id");
        // The caller, who has the right before the loss.
        let caller = match loss {
            Loss::FocalPointRevoked => {
                let did_uuid = uuid::Uuid::parse_str(&did).expect("delegation id");
                app.focal_point("replay-fp@example.org", cid_uuid, did_uuid)
                    .await
            }
            _ => {
                let o = app
                    .organiser(&format!("replay-{n}@example.org"), false)
                    .await;
                let (s, b) = app
                    .post(
                        &format!("/api/v1/conferences/{cid}/organisers"),
                        Some(&owner.token),
                        &json!({"email": format!("replay-{n}@example.org"), "role": "owner"}),
                    )
                    .await;
                assert_eq!(s, 202, "{b}");
                o
            }
        };
        let routes: Vec<&String> = posts.iter().filter(|r| loss.applies(r)).collect();
        let mut sent = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let Ok(body) = succeeding_body(route, n) else {
                continue;
            };
            let path = crate::security::fill(route, &values);
            let key = format!("replay-{n}-{i}");
            let (s, replayed) = keyed(&app, &caller.token, &path, &key, &body).await;
            assert!((200..300).contains(&s) && !replayed, "{loss:?} {path}: {s}");
            let (s, replayed) = keyed(&app, &caller.token, &path, &key, &body).await;
            assert!(
                (200..300).contains(&s) && replayed,
                "{loss:?} {path}: {s}, not replayed before the loss"
            );
            sent.push((path, key, body));
        }
        let mut conn = app.conn().await;
        match loss {
            Loss::Disabled => {
                diesel::update(organisers::table.find(caller.id))
                    .set(organisers::disabled_at.eq(diesel::dsl::now))
                    .execute(&mut conn)
                    .await
                    .expect("disable");
            }
            Loss::RemovedFromConference => {
                diesel::delete(
                    conference_organisers::table
                        .filter(conference_organisers::conference_id.eq(cid_uuid))
                        .filter(conference_organisers::organiser_id.eq(caller.id)),
                )
                .execute(&mut conn)
                .await
                .expect("remove from the conference");
            }
            Loss::OrganiserGrantRemoved => {
                diesel::update(organisers::table.find(caller.id))
                    .set(organisers::is_organiser.eq(false))
                    .execute(&mut conn)
                    .await
                    .expect("remove the grant");
            }
            Loss::FocalPointRevoked => {
                let (_, list) = app
                    .get(
                        &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points"),
                        Some(&owner.token),
                    )
                    .await;
                let items = list["items"].as_array().cloned().unwrap_or_default();
                let fp = items
                    .iter()
                    .find(|f| f["email"] == "replay-fp@example.org")
                    .and_then(|f| f["id"].as_str())
                    .expect("the focal point");
                let (s, b) = app
                    .delete(
                        &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points/{fp}"),
                        Some(&owner.token),
                    )
                    .await;
                assert_eq!(s, 204, "{b}");
            }
        }
        for (path, key, body) in &sent {
            let (s, replayed) = keyed(&app, &caller.token, path, key, body).await;
            assert!(
                loss.refused(s) && !replayed,
                "{loss:?} {path}: the retry answered {s} (replayed: {replayed})"
            );
            cells += 1;
        }
    }
    // Every POST but the password change is held by a loss other than disabling the account.
    for route in &posts {
        if succeeding_body(route, 0).is_ok() {
            assert!(
                losses[1..].iter().any(|l| l.applies(route)),
                "{route}: no caller loses a right on it"
            );
        }
    }
    assert!(cells >= 2 * (posts.len() - 1), "{cells} cells");
}
