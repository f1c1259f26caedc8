//! CORS for public reads (API.md, Conventions): any origin may read, none may write.
//!
//! Preflights are answered by middleware on every path, not by a route, so they are not spec
//! operations: they are sent with a plain `reqwest` client, which the spec checker does not
//! see (`api-spec/README.md`, "CORS"). Everything else goes through the checking client.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{spawn_app, LIANYUNGANG};

const PAGE: &str = "https://dashboard.example.net";

fn text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Sends a preflight for `method` (and `headers`, if any) to `url` from [`PAGE`].
async fn preflight(url: &str, method: &str, headers: Option<&str>) -> reqwest::Response {
    let mut rb = reqwest::Client::new()
        .request(Method::OPTIONS, url)
        .header("origin", PAGE)
        .header("access-control-request-method", method);
    if let Some(h) = headers {
        rb = rb.header("access-control-request-headers", h);
    }
    rb.send().await.expect("preflight")
}

#[actix_web::test]
async fn every_read_answer_allows_any_origin_and_writes_do_not() {
    let app = spawn_app().await;
    app.import_data().await;
    let o = app.organiser("cors@example.org", false).await;
    let reads = [
        format!("/api/v1/conferences/{LIANYUNGANG}/attendance"),
        "/api/v1/countries/KH".to_string(),
        "/api/v1/conferences".to_string(),
        // Errors too: an unknown resource, an unknown route, a refused token.
        "/api/v1/countries/XX".to_string(),
        "/api/v1/no-such-route".to_string(),
    ];
    for path in &reads {
        for with_origin in [true, false] {
            // (HEAD of an unknown route has no spec operation to check a bodiless 404 against.)
            let methods: &[Method] = if path.contains("no-such-route") {
                &[Method::GET]
            } else {
                &[Method::GET, Method::HEAD]
            };
            for method in methods.iter().cloned() {
                let mut rb = app
                    .client
                    .request(method.clone(), format!("{}{path}", app.address));
                if with_origin {
                    rb = rb.header("origin", PAGE);
                }
                let r = rb.send().await.expect("read");
                assert_eq!(
                    text(r.headers(), "access-control-allow-origin").as_deref(),
                    Some("*"),
                    "{method} {path} (Origin: {with_origin})"
                );
                assert_eq!(
                    text(r.headers(), "access-control-allow-credentials"),
                    None,
                    "{path}"
                );
                if r.status().as_u16() >= 400 && method == Method::GET {
                    assert_eq!(
                        text(r.headers(), "content-type").as_deref(),
                        Some("application/problem+json"),
                        "{path}"
                    );
                }
            }
        }
    }
    let r = app
        .client
        .get(format!("{}/api/v1/countries/KH", app.address))
        .header("origin", PAGE)
        .send()
        .await
        .expect("get");
    assert_eq!(
        text(r.headers(), "access-control-expose-headers").as_deref(),
        Some("ETag")
    );
    // A write, even from another origin, carries no CORS permission.
    let r = app
        .client
        .post(format!("{}/api/v1/organisations", app.address))
        .header("origin", PAGE)
        .bearer_auth(&o.token)
        .json(&serde_json::json!({"name": "Cross Origin", "kind": "other"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(text(r.headers(), "access-control-allow-origin"), None);
}

#[actix_web::test]
async fn a_preflight_for_a_read_is_204_and_one_for_a_write_is_refused() {
    let app = spawn_app().await;
    let url = format!(
        "{}/api/v1/conferences/{LIANYUNGANG}/attendance",
        app.address
    );
    for (method, headers) in [
        ("GET", None),
        ("HEAD", None),
        ("GET", Some("authorization")),
        ("GET", Some("Authorization, If-None-Match")),
    ] {
        let r = preflight(&url, method, headers).await;
        assert_eq!(r.status().as_u16(), 204, "{method} {headers:?}");
        let h = r.headers().clone();
        assert_eq!(
            text(&h, "access-control-allow-origin").as_deref(),
            Some("*")
        );
        let methods = text(&h, "access-control-allow-methods").unwrap_or_default();
        let mut methods: Vec<&str> = methods.split(',').map(str::trim).collect();
        methods.sort();
        assert_eq!(methods, vec!["GET", "HEAD"]);
        let allowed = text(&h, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut allowed: Vec<&str> = allowed.split(',').map(str::trim).collect();
        allowed.sort();
        assert_eq!(allowed, vec!["authorization", "if-none-match"]);
        assert_eq!(text(&h, "access-control-allow-credentials"), None);
        assert_eq!(text(&h, "access-control-max-age").as_deref(), Some("7200"));
        assert!(r.bytes().await.expect("body").is_empty());
    }
    let write_url = format!("{}/api/v1/organisations", app.address);
    for (method, headers) in [
        ("POST", Some("authorization, content-type")),
        ("POST", None),
        ("PATCH", None),
        ("DELETE", None),
        ("PUT", None),
        ("GET", Some("content-type")),
        ("GET", Some("x-custom")),
    ] {
        let r = preflight(&write_url, method, headers).await;
        assert_eq!(r.status().as_u16(), 403, "{method} {headers:?}");
        let h = r.headers().clone();
        assert_eq!(text(&h, "access-control-allow-origin"), None, "{method}");
        assert_eq!(text(&h, "access-control-allow-methods"), None, "{method}");
        assert_eq!(
            text(&h, "content-type").as_deref(),
            Some("application/problem+json")
        );
        let body: Value = r.json().await.expect("problem");
        assert_eq!(body["type"], "/problems/cors-refused", "{body}");
        assert_eq!(body["status"], 403);
    }
}

#[actix_web::test]
async fn options_without_preflight_headers_is_still_405_with_allow() {
    let app = spawn_app().await;
    let path = format!("/api/v1/conferences/{LIANYUNGANG}/attendance");
    for origin in [None, Some(PAGE)] {
        // The checking client: the spec says a method a path does not list is 405 with Allow.
        let mut rb = app
            .client
            .request(Method::OPTIONS, format!("{}{path}", app.address));
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        let r = rb.send().await.expect("options");
        assert_eq!(r.status().as_u16(), 405, "{origin:?}");
        assert_eq!(text(r.headers(), "allow").as_deref(), Some("GET"));
        assert_eq!(
            text(r.headers(), "content-type").as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(text(r.headers(), "access-control-allow-origin"), None);
    }
}
