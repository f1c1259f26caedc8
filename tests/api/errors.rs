//! Every error is problem+json, including actix's own 404, 405, 413 and 415.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{problem_fields, spawn_app, status_json, Response};

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
