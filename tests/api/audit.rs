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

#[actix_web::test]
async fn the_log_names_each_actor_and_as_what_it_acted() {
    let app = spawn_app().await;
    let f = app
        .fixture()
        .owner_email("actor-owner@example.org")
        .delegation("KH")
        .focal_point("actor-fp@interior.gov.kh")
        .build()
        .await;
    let c = format!("/api/v1/conferences/{}", f.conference);
    let d = f.delegation_path(0);
    let owner = Some(f.owner.token.as_str());
    // The organiser registers the delegation; its focal point nominates; the organiser accepts.
    assert_eq!(
        app.patch(&d, owner, &json!({"status": "registered"}))
            .await
            .0,
        200
    );
    let fp = Some(f.focal_points[0].token.as_str());
    let (s, m) = app
        .post(
            &format!("{d}/members"),
            fp,
            &json!({"full_name": "Sok Chea"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let member = format!("{d}/members/{}", m["id"].as_str().unwrap_or_default());
    let (s, _) = app
        .patch(&member, owner, &json!({"nomination_status": "accepted"}))
        .await;
    assert_eq!(s, 200);
    // Check-in staff scan the badge: the delegation becomes attended, by them.
    let staff = app.organiser("actor-door@example.org", false).await;
    let (s, _) = app
        .post(
            &format!("{c}/organisers"),
            owner,
            &json!({"email": "actor-door@example.org", "role": "check_in"}),
        )
        .await;
    assert_eq!(s, 202);
    let (_, badge) = app.get(&format!("{member}/badge"), owner).await;
    let scan = json!({"token": badge["token"], "nonce": "actor-1"});
    let (s, _) = app
        .post(&format!("{c}/check-ins"), Some(&staff.token), &scan)
        .await;
    assert_eq!(s, 200);

    let (s, log) = app.get(&format!("{c}/log"), owner).await;
    assert_eq!(s, 200, "{log}");
    let actors: Vec<(String, String, String)> = log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .rev()
                .map(|e| {
                    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
                    (
                        text(&e["resource_type"]),
                        text(&e["action"]),
                        text(&e["actor"]["kind"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kind_of = |resource: &str, action: &str, nth: usize| {
        actors
            .iter()
            .filter(|(r, a, _)| r == resource && a == action)
            .nth(nth)
            .map(|(_, _, k)| k.as_str())
    };
    assert_eq!(
        kind_of("member", "create", 0),
        Some("focal_point"),
        "{actors:?}"
    );
    assert_eq!(
        kind_of("member", "update", 0),
        Some("organiser"),
        "{actors:?}"
    );
    assert_eq!(
        kind_of("delegation", "update", 0),
        Some("organiser"),
        "{actors:?}"
    );
    assert_eq!(
        kind_of("delegation", "update", 1),
        Some("check_in"),
        "{actors:?}"
    );
    // `actor` names the same account as organiser_id, with its name.
    for e in log["items"].as_array().into_iter().flatten() {
        assert_eq!(e["actor"]["id"], e["organiser_id"], "{e}");
        assert_eq!(e["actor"]["name"], e["organiser_name"], "{e}");
    }
}
