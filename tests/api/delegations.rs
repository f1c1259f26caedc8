use serde_json::json;

use crate::helpers::{id, problem_fields, spawn_app};

#[actix_web::test]
async fn single_delegation_defaults_and_crud() {
    let app = spawn_app().await;
    let o = app.organiser("deleg@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/delegations", id(&conf));
    let (s, d) = app
        .post(&base, t, &json!({"country": "Cambodia", "head": {"name": "  H.E. Someone ", "title": null}, "size": 4}))
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["country"], "KH");
    assert_eq!(d["organisation_id"], serde_json::Value::Null);
    assert_eq!(d["role"], "member");
    assert_eq!(d["status"], "registered");
    assert_eq!(d["head"]["name"], "H.E. Someone");
    let path = format!("{base}/{}", id(&d));
    let (s, p) = app
        .patch(&path, t, &json!({"status": "attended", "size": null}))
        .await;
    assert_eq!(
        (s, p["status"].as_str(), p["size"].is_null()),
        (200, Some("attended"), true)
    );
    let (_, list) = app.get(&format!("{base}?status=attended"), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (_, none) = app.get(&format!("{base}?role=host"), None).await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(app.delete(&path, t).await.0, 204);
    assert_eq!(app.get(&path, None).await.0, 404);
}

#[actix_web::test]
async fn exactly_one_of_country_and_organisation() {
    let app = spawn_app().await;
    let o = app.organiser("one@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/delegations", id(&conf));
    let (_, org) = app
        .post(
            "/api/v1/organisations",
            Some(&o.token),
            &json!({"name": "IOM", "kind": "intergovernmental"}),
        )
        .await;
    for body in [
        json!({}),
        json!({"country": "KH", "organisation_id": org["id"]}),
        json!({"head": {"title": "Minister"}, "country": "KH"}),
    ] {
        let (s, b) = app.post(&base, Some(&o.token), &body).await;
        assert_eq!(s, 422, "{body} -> {b}");
    }
    let (s, b) = app
        .post(
            &base,
            Some(&o.token),
            &json!({"organisation_id": "019954f8-9000-7a00-8000-000000000000"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(problem_fields(&b, 422), vec!["organisation_id".to_string()]);
}

#[actix_web::test]
async fn eight_simultaneous_posts_of_one_country_make_one_delegation() {
    let app = spawn_app().await;
    let o = app.organiser("race@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/delegations", id(&conf));
    let body = json!({"country": "Laos"});
    let futures = (0..8).map(|_| app.post(&base, Some(&o.token), &body));
    let results = futures::future::join_all(futures).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let conflicts = results.iter().filter(|(s, _)| *s == 409).count();
    assert_eq!((created, conflicts), (1, 7), "{results:?}");
    let (_, list) = app.get(&base, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn batch_is_all_or_nothing_and_names_the_bad_index() {
    let app = spawn_app().await;
    let o = app.organiser("batch@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/delegations", id(&conf));
    let (s, b) = app
        .post(
            &base,
            Some(&o.token),
            &json!({"items": [{"country": "KH"}, {"country": "TH"}, {"country": "VN"}, {"country": "Atlantis"}]}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(
        problem_fields(&b, 422),
        vec!["items[3].country".to_string()]
    );
    let (_, list) = app.get(&base, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    let (s, b) = app
        .post(
            &base,
            Some(&o.token),
            &json!({"items": [{"country": "KH"}, {"country": "khm"}]}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = app
        .post(
            &base,
            Some(&o.token),
            &json!({"items": [{"country": "KH"}, {"country": "Thailand", "role": "host"}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["items"].as_array().map(Vec::len), Some(2));
    // A batch that collides with a stored delegation stores nothing.
    let (s, _) = app
        .post(
            &base,
            Some(&o.token),
            &json!({"items": [{"country": "VN"}, {"country": "KH"}]}),
        )
        .await;
    assert_eq!(s, 409);
    let (_, list) = app.get(&base, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn patching_into_a_duplicate_is_409() {
    let app = spawn_app().await;
    let o = app.organiser("dup@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/delegations", id(&conf));
    app.post(&base, Some(&o.token), &json!({"country": "KH"}))
        .await;
    let (_, th) = app
        .post(&base, Some(&o.token), &json!({"country": "TH"}))
        .await;
    let (s, _) = app
        .patch(
            &format!("{base}/{}", id(&th)),
            Some(&o.token),
            &json!({"country": "KHM"}),
        )
        .await;
    assert_eq!(s, 409);
}

#[actix_web::test]
async fn a_delegation_of_another_conference_is_404() {
    let app = spawn_app().await;
    let o = app.organiser("cross@example.org", false).await;
    let c1 = app.conference(&o, "published").await;
    let c2 = app.conference(&o, "published").await;
    let (_, d) = app
        .post(
            &format!("/api/v1/conferences/{}/delegations", id(&c1)),
            Some(&o.token),
            &json!({"country": "KH"}),
        )
        .await;
    let wrong = format!("/api/v1/conferences/{}/delegations/{}", id(&c2), id(&d));
    assert_eq!(app.get(&wrong, None).await.0, 404);
    assert_eq!(
        app.patch(&wrong, Some(&o.token), &json!({"size": 3}))
            .await
            .0,
        404
    );
    assert_eq!(app.delete(&wrong, Some(&o.token)).await.0, 404);
}
