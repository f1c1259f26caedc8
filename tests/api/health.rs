use crate::helpers::spawn_app;

#[actix_web::test]
async fn live_and_ready_answer_200() {
    let app = spawn_app().await;
    let (s, b) = app.get("/health/live", None).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("live")));
    let (s, b) = app.get("/health/ready", None).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ready")));
}

#[actix_web::test]
async fn openapi_document_is_served() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/api-spec/openapi.yaml", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap_or_default();
    assert!(
        text.starts_with("openapi: 3.1"),
        "{}",
        &text[..text.len().min(40)]
    );
    assert!(text.contains("/api/v1/conferences/{id}/attendance"));
}

#[actix_web::test]
async fn head_is_answered_wherever_get_is() {
    let app = spawn_app().await;
    for path in [
        "/health/live",
        "/api/v1/countries/KH",
        "/api-spec/openapi.yaml",
    ] {
        let r = app.request(reqwest::Method::HEAD, path, None, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(r.text().await.unwrap_or_default().is_empty());
    }
}
