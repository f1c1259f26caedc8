use serde_json::json;

use crate::helpers::{problem_fields, spawn_app};

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
