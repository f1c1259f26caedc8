//! The audit log: who, when, which resource, what changed; newest first; organisers only.

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn writes_are_logged_newest_first_for_organisers_only() {
    let app = spawn_app().await;
    let o = app.organiser("audit@example.org", false).await;
    let other = app.organiser("audit-other@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let (_, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    let did = d["id"].as_str().unwrap_or_default();
    app.patch(
        &format!("/api/v1/conferences/{cid}/delegations/{did}"),
        t,
        &json!({"status": "attended"}),
    )
    .await;
    app.post(
        &format!("/api/v1/conferences/{cid}/sessions"),
        t,
        &json!({"title": "Opening", "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00"}),
    )
    .await;
    app.delete(&format!("/api/v1/conferences/{cid}/delegations/{did}"), t)
        .await;
    let (s, log) = app.get(&format!("/api/v1/conferences/{cid}/log"), t).await;
    assert_eq!(s, 200, "{log}");
    let entries: Vec<(String, String)> = log["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["action"].as_str().unwrap_or("").to_string(),
                        e["resource_type"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<(String, String)> = [
        ("delete", "delegation"),
        ("create", "session"),
        ("update", "delegation"),
        ("create", "delegation"),
        ("create", "conference"),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    assert_eq!(entries, expected);
    let update = &log["items"][2];
    assert_eq!(update["organiser_id"], o.id.to_string());
    assert_eq!(
        update["changes"]["changed"]["status"],
        json!({"from": "registered", "to": "attended"})
    );
    assert!(update["at"].is_string());
    // Paginated.
    let (_, page) = app
        .get(&format!("/api/v1/conferences/{cid}/log?limit=2"), t)
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert!(page["next_cursor"].is_string());
    // Not for others.
    assert_eq!(
        app.get(&format!("/api/v1/conferences/{cid}/log"), None)
            .await
            .0,
        401
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/conferences/{cid}/log"),
            Some(&other.token)
        )
        .await
        .0,
        403
    );
}

#[actix_web::test]
async fn a_refused_write_leaves_no_log_entry() {
    let app = spawn_app().await;
    let o = app.organiser("audit-refused@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&o.token),
            &json!({"items": [{"country": "KH"}, {"country": "Atlantis"}]}),
        )
        .await;
    assert_eq!(s, 422);
    let (_, log) = app
        .get(&format!("/api/v1/conferences/{cid}/log"), Some(&o.token))
        .await;
    assert_eq!(
        log["items"].as_array().map(Vec::len),
        Some(1),
        "only the conference's creation: {log}"
    );
}
