//! Idempotency-Key on POST: replay, 422 on another body, 409 while running, per organiser,
//! 24-hour expiry.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use plenary::db::schema::{idempotency_keys, organisations};
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
