//! ETag, If-Match (strong comparison, 412 changes nothing) and If-None-Match.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{id, spawn_app, status_json};

#[actix_web::test]
async fn every_single_resource_carries_an_etag_and_stale_if_match_is_412() {
    let app = spawn_app().await;
    let o = app.organiser("etag@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let path = format!(
        "/api/v1/conferences/{}",
        conf["id"].as_str().unwrap_or_default()
    );
    let r = app.request(Method::GET, &path, None, None).await;
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    // A matching tag: the change goes through and the tag changes.
    let r = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", &etag)
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let new_etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_ne!(new_etag, etag);
    // The old tag is stale: 412, nothing changes.
    for (method, body) in [
        (Method::PATCH, Some(json!({"title": "Lost update"}))),
        (Method::DELETE, None),
    ] {
        let mut rb = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(&o.token)
            .header("if-match", &etag);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let (s, problem) = status_json(rb.send().await.expect("send")).await;
        assert_eq!(s, 412, "{method}: {problem}");
        assert_eq!(problem["type"], "/problems/precondition-failed");
    }
    let (_, now) = app.get(&path, None).await;
    assert_eq!(now["title"], "Renamed");
    // Weak tags never match (strong comparison).
    let r = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", format!("W/{new_etag}"))
        .json(&json!({"title": "Weak"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 412);
    // If-None-Match with the current tag: 304.
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .header("if-none-match", &new_etag)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 304);
}

#[actix_web::test]
async fn nested_resources_honour_if_match_too() {
    let app = spawn_app().await;
    let o = app.organiser("nested-etag@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&o.token),
            Some(&json!({"country": "KH"})),
        )
        .await;
    let created_tag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (_, d) = status_json(r).await;
    let path = format!(
        "/api/v1/conferences/{cid}/delegations/{}",
        d["id"].as_str().unwrap_or_default()
    );
    let r = app.request(Method::GET, &path, None, None).await;
    assert_eq!(
        r.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(created_tag.as_str())
    );
    let stale = "\"00000000000000000000000000000000\"";
    let r = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", stale)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 412);
    assert_eq!(app.get(&path, None).await.0, 200);
    let r = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", &created_tag)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 204);
}

/// Attendance in every form, the delegation lists, the histories and the summary carry an
/// `ETag` and answer a matching `If-None-Match` with 304 and no body; a write under the
/// conference changes the tag.
#[actix_web::test]
async fn public_reads_answer_if_none_match_with_304_until_a_write_changes_them() {
    let app = spawn_app().await;
    let o = app.organiser("conditional-reads@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let delegations = format!("/api/v1/conferences/{cid}/delegations");
    let (s, _) = app
        .post(&delegations, Some(&o.token), &json!({"country": "KH"}))
        .await;
    assert_eq!(s, 201);
    let paths = [
        format!("/api/v1/conferences/{cid}/attendance"),
        format!("/api/v1/conferences/{cid}/attendance?order=protocol"),
        format!("/api/v1/conferences/{cid}/attendance?by=session"),
        delegations.clone(),
        format!("{delegations}?order=protocol"),
        "/api/v1/countries/KH/attendance".to_string(),
        "/api/v1/attendance/summary?region=Asia".to_string(),
    ];
    let etag_of = |r: &crate::helpers::Response| r.header_text("etag");
    let mut tags = Vec::new();
    for path in &paths {
        let r = app.request(Method::GET, path, None, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let etag = etag_of(&r);
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        let again = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("send");
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert!(again.body().is_empty(), "{path}");
        tags.push(etag);
    }
    // A new delegation changes every one of them.
    let (s, _) = app
        .post(&delegations, Some(&o.token), &json!({"country": "Lao PDR"}))
        .await;
    assert_eq!(s, 201);
    for (path, old) in paths.iter().zip(&tags) {
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", old)
            .send()
            .await
            .expect("send");
        if path.contains("countries/KH") {
            // Cambodia's history did not change.
            assert_eq!(r.status().as_u16(), 304, "{path}");
        } else {
            assert_eq!(r.status().as_u16(), 200, "{path}");
            assert_ne!(&etag_of(&r), old, "{path}");
        }
    }
}

/// One header of a response, as text.
fn header(r: &crate::helpers::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

// A contract fix reported by outside clients (an `ETag` on every single resource).
#[actix_web::test]
async fn every_single_resource_has_an_etag_and_answers_if_none_match_with_304() {
    let app = spawn_app().await;
    let o = app.organiser("etags@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let cid = id(&conf);
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "ETag Organisation", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let (s, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, session) = app
        .post(
            &format!("/api/v1/conferences/{cid}/sessions"),
            t,
            &json!({"title": "Opening", "starts_at": "2025-09-17T09:00:00", "ends_at": "2025-09-17T10:00:00"}),
        )
        .await;
    assert_eq!(s, 201, "{session}");
    let routes = [
        "/api/v1/countries/KH".to_string(),
        "/api/v1/countries/Cambodia".to_string(),
        format!("/api/v1/organisations/{}", id(&org)),
        format!("/api/v1/conferences/{cid}"),
        format!("/api/v1/conferences/{cid}/delegations/{}", id(&d)),
        format!("/api/v1/conferences/{cid}/sessions/{}", id(&session)),
        format!(
            "/api/v1/conferences/{cid}/sessions/{}/attendance",
            id(&session)
        ),
        format!("/api/v1/conferences/{cid}/protocol-order"),
    ];
    for path in &routes {
        let r = app.request(Method::GET, path, t, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let Some(etag) = header(&r, "etag") else {
            panic!("GET {path} has no ETag");
        };
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&o.token)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 304, "{path}");
        assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()), "{path}");
        assert!(r.body().is_empty(), "{path}");
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", "\"stale\"")
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 200, "{path} with a stale tag");
    }
}
