//! CORS (API.md, Conventions): any origin may read; only the origins listed in
//! `PLENARY_CORS_ORIGINS` may write.
//!
//! Preflights are answered by middleware on every path, not by a route, so they are not spec
//! operations: they are sent with a plain `reqwest` client, which the spec checker does not
//! see (`api-spec/README.md`, "CORS"). Everything else goes through the checking client.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{id, spawn_app, spawn_app_with, test_options, TestApp, LIANYUNGANG};

/// A page of an origin that is not listed.
const PAGE: &str = "https://dashboard.example.net";
/// The secretariat's own site, listed in `PLENARY_CORS_ORIGINS` by [`listing_app`].
const PORTAL: &str = "https://portal.example.org";
/// What the `Origin` of a request is in the matrices: the listed origin, spellings of it a
/// browser never sends (so not listed), another origin, and none.
const ORIGINS: &[(Option<&str>, bool)] = &[
    (Some(PORTAL), true),
    (Some("https://portal.example.org:8443"), false),
    (Some("http://portal.example.org"), false),
    (Some("https://portal.example.org/"), false),
    (Some(PAGE), false),
    (Some("null"), false),
    (None, false),
];

fn text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Sends a preflight for `method` (and `headers`, if any) to `url` from [`PAGE`].
async fn preflight(url: &str, method: &str, headers: Option<&str>) -> reqwest::Response {
    preflight_from(PAGE, url, method, headers).await
}

/// Sends a preflight for `method` (and `headers`, if any) to `url` from `origin`.
async fn preflight_from(
    origin: &str,
    url: &str,
    method: &str,
    headers: Option<&str>,
) -> reqwest::Response {
    let mut rb = reqwest::Client::new()
        .request(Method::OPTIONS, url)
        .header("origin", origin)
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

/// A server started with `PLENARY_CORS_ORIGINS` = [`PORTAL`].
async fn listing_app() -> TestApp {
    let mut options = test_options();
    options.cors_origins =
        plenary::config::CorsOrigins::parse(&format!(" {PORTAL} ,")).expect("an exact origin");
    spawn_app_with(options).await
}

/// The comma-separated items of a header, trimmed and lower-cased, sorted.
fn items(headers: &reqwest::header::HeaderMap, name: &str) -> Vec<String> {
    let mut items: Vec<String> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|i| i.trim().to_ascii_lowercase())
        .filter(|i| !i.is_empty())
        .collect();
    items.sort();
    items
}

/// Every method × every kind of origin: a listed origin's preflight is granted for reads and
/// writes with the write headers, naming that origin; any other origin's only for reads, with
/// `*`, and its write preflights are 403 with no `Access-Control-*` header.
#[actix_web::test]
async fn preflights_offer_writes_to_listed_origins_only() {
    let app = listing_app().await;
    let url = format!("{}/api/v1/organisations", app.address);
    let write_headers = "Authorization, Content-Type, If-Match, Idempotency-Key";
    for (origin, listed) in ORIGINS.iter().copied() {
        let Some(origin) = origin else { continue };
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
            let read = matches!(method, "GET" | "HEAD");
            let headers = if read {
                "authorization, if-none-match"
            } else {
                write_headers
            };
            let r = preflight_from(origin, &url, method, Some(headers)).await;
            let status = r.status().as_u16();
            let h = r.headers().clone();
            let what = format!("{method} from {origin}");
            assert_eq!(text(&h, "access-control-allow-credentials"), None, "{what}");
            assert!(items(&h, "vary").contains(&"origin".to_string()), "{what}");
            if listed {
                assert_eq!(status, 204, "{what}");
                assert_eq!(
                    text(&h, "access-control-allow-origin").as_deref(),
                    Some(origin),
                    "{what}"
                );
                assert_eq!(
                    items(&h, "access-control-allow-methods"),
                    ["delete", "get", "head", "patch", "post", "put"],
                    "{what}"
                );
                assert_eq!(
                    items(&h, "access-control-allow-headers"),
                    [
                        "authorization",
                        "content-type",
                        "idempotency-key",
                        "if-match",
                        "if-none-match"
                    ],
                    "{what}"
                );
                assert_eq!(text(&h, "access-control-max-age").as_deref(), Some("7200"));
                assert!(r.bytes().await.expect("body").is_empty(), "{what}");
            } else if read {
                assert_eq!(status, 204, "{what}");
                assert_eq!(
                    text(&h, "access-control-allow-origin").as_deref(),
                    Some("*"),
                    "{what}"
                );
                assert_eq!(items(&h, "access-control-allow-methods"), ["get", "head"]);
            } else {
                assert_eq!(status, 403, "{what}");
                assert_eq!(text(&h, "access-control-allow-origin"), None, "{what}");
                assert_eq!(text(&h, "access-control-allow-methods"), None, "{what}");
                let body: Value = r.json().await.expect("problem");
                assert_eq!(body["type"], "/problems/cors-refused", "{what}: {body}");
            }
        }
    }
    // A listed origin gets what the contract lists, nothing more.
    for (method, headers) in [
        ("POST", Some("content-type, x-custom")),
        ("POST", Some("cookie")),
        ("TRACE", None),
        ("patch", None),
    ] {
        let r = preflight_from(PORTAL, &url, method, headers).await;
        assert_eq!(r.status().as_u16(), 403, "{method} {headers:?}");
        assert_eq!(text(r.headers(), "access-control-allow-origin"), None);
        let body: Value = r.json().await.expect("problem");
        assert_eq!(body["type"], "/problems/cors-refused", "{body}");
    }
    // No header asked for at all is granted too.
    let r = preflight_from(PORTAL, &url, "DELETE", None).await;
    assert_eq!(r.status().as_u16(), 204);
}

/// Every write method × every kind of origin, successes and errors: answers to the listed
/// origin name it (with `Vary: Origin` and `ETag`, `Location` exposed), answers to any other
/// carry no CORS header; reads stay `*` for everyone; never credentials.
#[actix_web::test]
async fn write_answers_name_the_listed_origin_and_no_other() {
    let app = listing_app().await;
    let o = app.organiser("cors-writes@example.org", false).await;
    let conference = id(&app.conference(&o, "published").await);
    for (origin, listed) in ORIGINS.iter().copied() {
        let send = |method: Method, path: String, body: Option<Value>, token: bool| {
            let mut rb = app.client.request(method, format!("{}{path}", app.address));
            if let Some(origin) = origin {
                rb = rb.header("origin", origin);
            }
            if token {
                rb = rb.bearer_auth(&o.token);
            }
            if let Some(body) = body {
                rb = rb.json(&body);
            }
            async move { rb.send().await.expect("send") }
        };
        let name = format!("Cross Origin {}", uuid::Uuid::now_v7().simple());
        let created = send(
            Method::POST,
            "/api/v1/organisations".into(),
            Some(serde_json::json!({"name": name, "kind": "other"})),
            true,
        )
        .await;
        let mut answers = vec![("POST".to_string(), 201, created.headers().clone())];
        let org: Value = created.json().await.expect("organisation");
        let org = format!("/api/v1/organisations/{}", id(&org));
        for (method, path, body, token, status) in [
            (
                Method::PATCH,
                org.clone(),
                Some(serde_json::json!({"acronym": "CO"})),
                true,
                200,
            ),
            (
                Method::PUT,
                format!("/api/v1/conferences/{conference}/protocol-order"),
                Some(serde_json::json!({"delegation_ids": []})),
                true,
                200,
            ),
            (
                Method::POST,
                "/api/v1/organisations".to_string(),
                Some(serde_json::json!({"kind": "other"})),
                true,
                422,
            ),
            (
                Method::POST,
                "/api/v1/organisations".to_string(),
                Some(serde_json::json!({"name": "No Token", "kind": "other"})),
                false,
                401,
            ),
            (Method::DELETE, org.clone(), None, true, 204),
        ] {
            let r = send(method.clone(), path, body, token).await;
            let what = format!("{method} from {origin:?}");
            assert_eq!(r.status().as_u16(), status, "{what}");
            answers.push((method.to_string(), status, r.headers().clone()));
        }
        for (method, status, h) in &answers {
            let what = format!("{method} ({status}) from {origin:?}");
            assert_eq!(text(h, "access-control-allow-credentials"), None, "{what}");
            if listed {
                assert_eq!(
                    text(h, "access-control-allow-origin").as_deref(),
                    origin,
                    "{what}"
                );
                assert!(items(h, "vary").contains(&"origin".to_string()), "{what}");
                assert_eq!(
                    items(h, "access-control-expose-headers"),
                    ["etag", "location"],
                    "{what}"
                );
            } else {
                assert_eq!(text(h, "access-control-allow-origin"), None, "{what}");
                assert_eq!(text(h, "access-control-expose-headers"), None, "{what}");
            }
        }
        let r = send(Method::GET, "/api/v1/countries/KH".into(), None, false).await;
        assert_eq!(
            text(r.headers(), "access-control-allow-origin").as_deref(),
            Some("*"),
            "a read from {origin:?}"
        );
        assert_eq!(
            text(r.headers(), "access-control-expose-headers").as_deref(),
            Some("ETag")
        );
    }
}

/// Without `PLENARY_CORS_ORIGINS` (the default), the origin a deployment would list is one
/// like any other: its write preflights are refused.
#[actix_web::test]
async fn without_listed_origins_no_page_may_write() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/organisations", app.address);
    let r = preflight_from(PORTAL, &url, "POST", Some("content-type")).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(text(r.headers(), "access-control-allow-origin"), None);
}
