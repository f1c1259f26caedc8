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
        let get = app.request(reqwest::Method::GET, path, None, None).await;
        let length = get.bytes().await.map(|b| b.len()).unwrap_or_default();
        let r = app.request(reqwest::Method::HEAD, path, None, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        // The GET's length (RFC 9110 §9.3.2 and §8.6), never 0 for a body that is not empty.
        let said = r
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        assert_eq!(said, Some(length), "{path}");
        assert!(length > 0);
        assert!(r.text().await.unwrap_or_default().is_empty());
    }
}
