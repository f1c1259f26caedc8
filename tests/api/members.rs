use serde_json::json;

use crate::helpers::spawn_app;

fn id(v: &serde_json::Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[actix_web::test]
async fn members_are_for_organisers_only_and_head_comes_first() {
    let app = spawn_app().await;
    let o = app.organiser("members@example.org", false).await;
    let other = app.organiser("outsider@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let (_, d) = app
        .post(
            &format!("/api/v1/conferences/{}/delegations", id(&conf)),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    let base = format!(
        "/api/v1/conferences/{}/delegations/{}/members",
        id(&conf),
        id(&d)
    );
    let (s, m1) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Adviser One", "position": "Adviser", "email": "one@example.org"}),
        )
        .await;
    assert_eq!(s, 201, "{m1}");
    let (s, head) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Head Person", "title": "H.E.", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{head}");
    let (s, _) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Second Head", "is_head": true}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, bad) = app
        .post(&base, t, &json!({"full_name": "", "email": "not-an-email"}))
        .await;
    assert_eq!(s, 422, "{bad}");
    let (s, list) = app.get(&base, t).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["full_name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["Head Person", "Adviser One"]);
    assert_eq!(list["items"][1]["email"], "one@example.org");
    // Not for the public, not for other organisers; nor anywhere public.
    assert_eq!(app.get(&base, None).await.0, 404);
    assert_eq!(app.get(&base, Some(&other.token)).await.0, 404);
    assert_eq!(
        app.post(&base, Some(&other.token), &json!({"full_name": "X"}))
            .await
            .0,
        403
    );
    let (_, att) = app
        .get(
            &format!("/api/v1/conferences/{}/attendance", id(&conf)),
            None,
        )
        .await;
    assert!(!att.to_string().contains("one@example.org"));
    let path = format!("{base}/{}", id(&m1));
    let (s, p) = app
        .patch(&path, t, &json!({"position": "Senior Adviser"}))
        .await;
    assert_eq!((s, p["position"].as_str()), (200, Some("Senior Adviser")));
    assert_eq!(app.delete(&path, t).await.0, 204);
    assert_eq!(app.delete(&path, t).await.0, 404);
}
