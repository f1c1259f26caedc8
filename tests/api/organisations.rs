use serde_json::{json, Value};

use crate::helpers::{id, problem_fields, spawn_app};

#[actix_web::test]
async fn organisation_crud_and_case_insensitive_uniqueness() {
    let app = spawn_app().await;
    let o = app.organiser("orgs@example.org", false).await;
    let t = Some(o.token.as_str());
    let (s, iom) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "  International Organization for Migration ", "acronym": "IOM", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{iom}");
    assert_eq!(iom["name"], "International Organization for Migration");
    let id = iom["id"].as_str().unwrap_or_default().to_string();
    let (s, _) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "international organization for migration", "kind": "other"}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, got) = app.get(&format!("/api/v1/organisations/{id}"), None).await;
    assert_eq!((s, got["acronym"].as_str()), (200, Some("IOM")));
    let (s, patched) = app
        .patch(
            &format!("/api/v1/organisations/{id}"),
            t,
            &json!({"country": "Switzerland", "website": "https://www.iom.int"}),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["country"], "CH");
    let (_, list) = app
        .get(
            "/api/v1/organisations?q=migration&kind=intergovernmental&country=CH",
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (s, body) = app
        .patch(
            &format!("/api/v1/organisations/{id}"),
            t,
            &json!({"kind": "club", "name": null}),
        )
        .await;
    assert_eq!(s, 422);
    let fields = problem_fields(&body, 422);
    assert!(fields.contains(&"kind".to_string()) && fields.contains(&"name".to_string()));
    let (s, _) = app.delete(&format!("/api/v1/organisations/{id}"), t).await;
    assert_eq!(s, 204);
    let (s, _) = app.get(&format!("/api/v1/organisations/{id}"), None).await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn organisation_with_a_delegation_cannot_be_deleted() {
    let app = spawn_app().await;
    let o = app.organiser("orgdel@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let (_, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Mekong Centre", "kind": "intergovernmental"}),
        )
        .await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"organisation_id": org["id"]}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, body) = app
        .delete(
            &format!(
                "/api/v1/organisations/{}",
                org["id"].as_str().unwrap_or_default()
            ),
            t,
        )
        .await;
    assert_eq!(s, 409, "{body}");
}

// A contract fix reported by outside clients (the organisation log).
#[actix_web::test]
async fn an_organisations_log_lists_its_writes_newest_first_for_organisers() {
    let app = spawn_app().await;
    let o = app.organiser("org-log@example.org", false).await;
    let t = Some(o.token.as_str());
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Logged Organisation", "kind": "non_governmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let (s, other) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Other Organisation", "kind": "other"}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let path = format!("/api/v1/organisations/{}", id(&org));
    let (s, _) = app.patch(&path, t, &json!({"acronym": "LO"})).await;
    assert_eq!(s, 200);

    let (s, log) = app.get(&format!("{path}/log"), t).await;
    assert_eq!(s, 200, "{log}");
    let actions: Vec<&str> = log["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, vec!["update", "create"], "{log}");
    let first = &log["items"][0];
    assert_eq!(first["resource_type"], "organisation");
    assert_eq!(first["resource_id"], org["id"]);
    assert_eq!(first["organiser_id"], json!(o.id.to_string()));
    assert_eq!(
        first["changes"]["changed"]["acronym"]["to"], "LO",
        "{first}"
    );
    assert_eq!(log["next_cursor"], Value::Null);

    // Paginated like the conference log.
    let (s, page1) = app.get(&format!("{path}/log?limit=1"), t).await;
    assert_eq!(s, 200);
    assert_eq!(page1["items"][0]["action"], "update");
    let cursor = page1["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!cursor.is_empty(), "{page1}");
    let (s, page2) = app
        .get(&format!("{path}/log?limit=1&cursor={cursor}"), t)
        .await;
    assert_eq!(s, 200, "{page2}");
    assert_eq!(page2["items"][0]["action"], "create");
    assert_eq!(page2["next_cursor"], Value::Null);
    let (s, _) = app.get(&format!("{path}/log?limit=0"), t).await;
    assert_eq!(s, 422);

    // Organisers only; an unknown organisation is 404.
    let (s, _) = app.get(&format!("{path}/log"), None).await;
    assert_eq!(s, 401);
    let (s, _) = app
        .get(
            "/api/v1/organisations/0190a0a0-0000-7000-8000-000000000000/log",
            t,
        )
        .await;
    assert_eq!(s, 404);

    // A deleted organisation keeps its trail.
    let (s, _) = app.delete(&path, t).await;
    assert_eq!(s, 204);
    let (s, log) = app.get(&format!("{path}/log"), t).await;
    assert_eq!(s, 200, "{log}");
    assert_eq!(log["items"][0]["action"], "delete");
    assert_eq!(log["items"].as_array().map(Vec::len), Some(3));
}
