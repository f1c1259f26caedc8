use serde_json::json;

use crate::helpers::{id, problem_fields, spawn_app};

#[actix_web::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let o = app.organiser("conf@example.org", false).await;
    let t = Some(o.token.as_str());
    let r = app
        .request(
            reqwest::Method::POST,
            "/api/v1/conferences",
            t,
            Some(&json!({
                "title": "  Conference on Regional Migration Governance Policies ",
                "start_date": "2025-09-17", "end_date": "2025-09-17",
                "time_zone": "Asia/Shanghai",
                "venue": {"city": "Lianyungang", "region": "Jiangsu", "country": "China"}
            })),
        )
        .await;
    assert_eq!(r.status().as_u16(), 201);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let c: serde_json::Value = r.json().await.expect("json");
    assert_eq!(location, Some(format!("/api/v1/conferences/{}", id(&c))));
    assert_eq!(
        c["title"],
        "Conference on Regional Migration Governance Policies"
    );
    assert_eq!(c["status"], "draft");
    assert_eq!(c["venue"]["country"], "CN");
    assert_eq!(c["host_country"], "CN");
    assert_eq!(c["participants_public"], false);
    let path = format!("/api/v1/conferences/{}", id(&c));
    let (s, p) = app
        .patch(
            &path,
            t,
            &json!({"status": "published", "theme": "Sharing Weal and Woe"}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["theme"], "Sharing Weal and Woe");
    let (s, got) = app.get(&path, None).await;
    assert_eq!((s, got["status"].as_str()), (200, Some("published")));
    let (s, _) = app.delete(&path, t).await;
    assert_eq!(s, 204);
    assert_eq!(app.get(&path, None).await.0, 404);
}

#[actix_web::test]
async fn invalid_conferences_are_422_naming_fields() {
    let app = spawn_app().await;
    let o = app.organiser("confbad@example.org", false).await;
    let (s, body) = app
        .post(
            "/api/v1/conferences",
            Some(&o.token),
            &json!({
                "title": "   ", "start_date": "2025-09-18", "end_date": "2025-09-17",
                "time_zone": "Asia/Lianyungang",
                "venue": {"city": "Lianyungang", "country": "Atlantis"}
            }),
        )
        .await;
    assert_eq!(s, 422);
    let fields = problem_fields(&body, 422);
    for f in ["title", "time_zone", "venue.country", "end_date"] {
        assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
    }
    let (_, list) = app.get("/api/v1/conferences", Some(&o.token)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn drafts_are_hidden_from_everyone_else() {
    let app = spawn_app().await;
    let a = app.organiser("owner@example.org", false).await;
    let b = app.organiser("other@example.org", false).await;
    let draft = app.conference(&a, "draft").await;
    let path = format!("/api/v1/conferences/{}", id(&draft));
    assert_eq!(app.get(&path, Some(&a.token)).await.0, 200);
    assert_eq!(app.get(&path, None).await.0, 404);
    assert_eq!(app.get(&path, Some(&b.token)).await.0, 404);
    assert_eq!(app.get(&format!("{path}/attendance"), None).await.0, 404);
    assert_eq!(app.get(&format!("{path}/delegations"), None).await.0, 404);
    assert_eq!(
        app.patch(&path, Some(&b.token), &json!({"title": "x"}))
            .await
            .0,
        404
    );
    let (_, anon) = app.get("/api/v1/conferences", None).await;
    assert_eq!(anon["items"].as_array().map(Vec::len), Some(0));
    let (_, mine) = app.get("/api/v1/conferences", Some(&a.token)).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn a_second_organiser_cannot_change_the_first_ones_conference() {
    let app = spawn_app().await;
    let a = app.organiser("first@example.org", false).await;
    let b = app.organiser("second@example.org", false).await;
    let conf = app.conference(&a, "published").await;
    let path = format!("/api/v1/conferences/{}", id(&conf));
    let (s, body) = app
        .patch(&path, Some(&b.token), &json!({"title": "Hijacked"}))
        .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(app.delete(&path, Some(&b.token)).await.0, 403);
    let (s, _) = app
        .post(
            &format!("{path}/delegations"),
            Some(&b.token),
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(s, 403);
    let (_, still) = app.get(&path, None).await;
    assert_eq!(still["title"], "Test Conference");
    // Once made an editor, the second organiser may change it, but not add organisers.
    let (s, added) = app
        .post(
            &format!("{path}/organisers"),
            Some(&a.token),
            &json!({"email": "SECOND@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!(s, 202, "{added}");
    assert_eq!(
        app.patch(&path, Some(&b.token), &json!({"title": "Edited"}))
            .await
            .0,
        200
    );
    let (s, _) = app
        .post(
            &format!("{path}/organisers"),
            Some(&b.token),
            &json!({"email": "first@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .post(
            &format!("{path}/organisers"),
            Some(&a.token),
            &json!({"email": "second@example.org", "role": "owner"}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, body) = app
        .post(
            &format!("{path}/organisers"),
            Some(&a.token),
            &json!({"email": "ghost@example.org", "role": "owner"}),
        )
        .await;
    // An email without an account: the same answer as for an account (nothing revealed).
    assert_eq!(
        (s, body),
        (202, json!({"email": "ghost@example.org", "role": "owner"}))
    );
}

#[actix_web::test]
async fn admins_may_change_everything() {
    let app = spawn_app().await;
    let a = app.organiser("plain@example.org", false).await;
    let admin = app.organiser("admin@example.org", true).await;
    let draft = app.conference(&a, "draft").await;
    let path = format!("/api/v1/conferences/{}", id(&draft));
    assert_eq!(app.get(&path, Some(&admin.token)).await.0, 200);
    assert_eq!(
        app.patch(&path, Some(&admin.token), &json!({"status": "cancelled"}))
            .await
            .0,
        200
    );
}

#[actix_web::test]
async fn deleting_a_conference_with_delegations_needs_cascade() {
    let app = spawn_app().await;
    let a = app.organiser("cascade@example.org", false).await;
    let conf = app.conference(&a, "published").await;
    let path = format!("/api/v1/conferences/{}", id(&conf));
    app.post(
        &format!("{path}/delegations"),
        Some(&a.token),
        &json!({"country": "KH"}),
    )
    .await;
    assert_eq!(app.delete(&path, Some(&a.token)).await.0, 409);
    assert_eq!(app.get(&path, None).await.0, 200);
    assert_eq!(
        app.delete(&format!("{path}?cascade=true"), Some(&a.token))
            .await
            .0,
        204
    );
    assert_eq!(app.get(&path, None).await.0, 404);
}

#[actix_web::test]
async fn list_filters_and_cursor_paging_never_repeat_or_skip() {
    let app = spawn_app().await;
    let a = app.organiser("paging@example.org", false).await;
    let mut created = Vec::new();
    for i in 0..7 {
        let (s, c) = app
            .post(
                "/api/v1/conferences",
                Some(&a.token),
                &json!({
                    "title": format!("Meeting {i}"), "status": "published",
                    "start_date": format!("2024-0{}-10", i + 1), "end_date": format!("2024-0{}-11", i + 1),
                    "time_zone": "Europe/Paris", "venue": {"city": "Paris", "country": "FR"}
                }),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        created.push(id(&c));
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/conferences?limit=3".to_string();
    let mut inserted = false;
    loop {
        let (s, page) = app.get(&path, None).await;
        assert_eq!(s, 200, "{page}");
        for c in page["items"].as_array().expect("items") {
            seen.push(id(c));
        }
        if !inserted {
            // Rows inserted while paging must not disturb the rows that existed.
            app.conference(&a, "published").await;
            inserted = true;
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/conferences?limit=3&cursor={c}"),
            None => break,
        }
    }
    for c in &created {
        assert_eq!(
            seen.iter().filter(|s| *s == c).count(),
            1,
            "{c} seen {seen:?}"
        );
    }
    let (_, filtered) = app
        .get(
            "/api/v1/conferences?from=2024-03-01&to=2024-04-30&country=France",
            None,
        )
        .await;
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(2));
    let (_, q) = app.get("/api/v1/conferences?q=meeting%205", None).await;
    assert_eq!(q["items"].as_array().map(Vec::len), Some(1));
}

// A finding of the outside probe (account enumeration through `POST .../organisers`).
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
