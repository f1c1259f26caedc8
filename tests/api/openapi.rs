//! `api-spec/openapi.yaml` is the contract: the routes the server registers are exactly its
//! operations, every operation answers as it says (each response of every test is checked by
//! `helpers::Client`), its examples match its schemas, and the checker itself catches drift.

use std::collections::BTreeSet;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use crate::contract::{escape, spec, Exchange, METHODS};
use crate::helpers::{id, spawn_app, status_json, LIANYUNGANG};

/// A concrete path for a template: ids become fresh UUIDs, an edition number `1`, a country
/// code `KH`, a file name one of the page's assets.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| match seg {
            "{code}" => "KH".to_string(),
            "{file}" => "index.css".to_string(),
            "{number}" => "1".to_string(),
            s if s.starts_with('{') => match s.split_once('}') {
                // `{number}.csv`: a parameter with a literal suffix keeps the suffix.
                Some(("{number", suffix)) => format!("1{suffix}"),
                Some((_, suffix)) => format!("{}{suffix}", uuid::Uuid::now_v7()),
                None => uuid::Uuid::now_v7().to_string(),
            },
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn registered_routes_are_exactly_the_spec_operations() {
    let served: BTreeSet<(String, String)> = plenary::routes::endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    assert_eq!(
        served.len(),
        plenary::routes::endpoints().len(),
        "a method and path registered twice"
    );
    let specified: BTreeSet<(String, String)> = spec().operations().into_iter().collect();
    let not_in_spec: Vec<_> = served.difference(&specified).collect();
    let not_served: Vec<_> = specified.difference(&served).collect();
    assert!(
        not_in_spec.is_empty() && not_served.is_empty(),
        "routes missing from api-spec/openapi.yaml: {not_in_spec:?}\n\
         spec operations the server does not register: {not_served:?}"
    );
    assert!(served.len() >= 39, "{} routes", served.len());
}

#[actix_web::test]
async fn every_spec_operation_is_routed_and_other_methods_are_405() {
    let app = spawn_app().await;
    let paths: BTreeSet<String> = spec().operations().into_iter().map(|(_, p)| p).collect();
    for template in &paths {
        let url = format!("{}{}", app.address, concrete(template));
        let item = &spec().doc["paths"][template.as_str()];
        for m in METHODS {
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).expect("method");
            if matches!(m, "head" | "options" | "trace") {
                continue;
            }
            // The client checks each answer against the spec: a listed method must answer a
            // status the operation lists (so never the router's 404 or a 405), any other
            // method a 405 problem whose `Allow` lists exactly the spec's methods.
            let r = app
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            if item.get(m).is_some() {
                assert_ne!(status, 405, "{m} {template}");
                let (_, body) = status_json(r).await;
                assert_ne!(
                    body["detail"], "no such route or resource",
                    "{m} {template} is not routed"
                );
            } else {
                assert_eq!(status, 405, "{m} {template}");
            }
        }
    }
}

#[test]
fn examples_in_the_spec_match_their_schemas() {
    let s = spec();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut check = |schema: &str, example: &Value, at: &str| {
        checked += 1;
        if let Err(e) = s.validate(schema, example) {
            failures.push(format!("{at}: {e}"));
        }
    };
    // Media-type examples of request bodies and responses, and parameter examples.
    let mut media: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    collect(&s.doc, String::new(), &mut media, &mut params);
    for pointer in media {
        let schema = format!("{pointer}/schema");
        if s.doc.pointer(&schema).is_none() {
            continue;
        }
        let node = &s.doc.pointer(&pointer).cloned().unwrap_or_default();
        if let Some(example) = node.get("example") {
            check(&schema, example, &pointer);
        }
        if let Some(examples) = node.get("examples").and_then(Value::as_object) {
            for name in examples.keys() {
                let at = format!("{pointer}/examples/{}", escape(name));
                let (_, ex) = s.resolve(&at).expect("example");
                check(&schema, &ex["value"], &at);
            }
        }
    }
    for pointer in params {
        let node = s.doc.pointer(&pointer).cloned().unwrap_or_default();
        if let Some(example) = node.get("example") {
            let schema = format!("{pointer}/schema");
            let schema_node = s
                .resolve(&schema)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            // Query examples are strings on the wire; integers are written as numbers.
            let value = match (&schema_node["type"], example) {
                (Value::String(t), Value::String(v)) if t == "integer" => {
                    json!(v.parse::<i64>().unwrap_or_default())
                }
                _ => example.clone(),
            };
            check(&schema, &value, &pointer);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 60, "only {checked} examples found");
}

/// The time zone names of `TimeZone` (its `x-strict` enum, which the checker and the fuzzer
/// apply) are exactly those of the server's time zone database, and the served document keeps
/// them out of the schema that generators read.
#[test]
fn the_time_zones_of_the_spec_are_the_servers() {
    let listed: std::collections::BTreeSet<&str> = spec().doc["components"]["schemas"]["TimeZone"]
        ["enum"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let known: std::collections::BTreeSet<&str> =
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    assert_eq!(listed, known);
    let raw: Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api-spec/openapi.yaml"),
        )
        .expect("the spec"),
    )
    .expect("YAML");
    let served = &raw["components"]["schemas"]["TimeZone"];
    assert!(served.get("enum").is_none() && served["x-strict"]["enum"].is_array());
}

/// Pointers of every media-type object (under `content`) and every parameter object.
fn collect(v: &Value, at: String, media: &mut Vec<String>, params: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{at}/{}", escape(k));
                if at.ends_with("/content") {
                    media.push(p.clone());
                }
                if at.ends_with("/parameters") && child.get("in").is_some() {
                    params.push(p.clone());
                }
                collect(child, p, media, params);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                if at.ends_with("/parameters") && child.get("in").is_some() {
                    params.push(p.clone());
                }
                collect(child, p, media, params);
            }
        }
        _ => {}
    }
}

/// The checker is not vacuous: a conforming response passes, and a renamed or missing field,
/// a wrong type, an undeclared status, a wrong content type or a missing required header fail.
#[test]
fn the_checker_refuses_responses_that_drift_from_the_spec() {
    let country = json!({"code": "KH", "alpha3": "KHM", "numeric": "116", "name": "Cambodia",
        "official_name": "Kingdom of Cambodia", "un_name": "Cambodia", "region": "Asia",
        "subregion": "South-eastern Asia"});
    let mut json_headers = HeaderMap::new();
    json_headers.insert("content-type", "application/json".parse().expect("header"));
    // A country is a single resource: its 200 carries an ETag (API.md, Conventions).
    json_headers.insert("etag", "\"kh\"".parse().expect("header"));
    // Every read answer carries CORS's wildcard (API.md, Conventions).
    json_headers.insert("access-control-allow-origin", "*".parse().expect("header"));
    let check = |status: u16, headers: &HeaderMap, body: &Value| {
        let bytes = serde_json::to_vec(body).expect("json");
        spec().check(&Exchange {
            method: "GET",
            path: "/api/v1/countries/KH",
            query: None,
            request_content_type: None,
            request_body: None,
            status,
            headers,
            body: &bytes,
        })
    };
    assert_eq!(check(200, &json_headers, &country), Ok(()));

    let mut renamed = country.clone();
    renamed["alpha_3"] = renamed["alpha3"].take();
    if let Some(o) = renamed.as_object_mut() {
        o.remove("alpha3");
    }
    let err = check(200, &json_headers, &renamed).expect_err("a renamed field");
    assert!(err.contains("alpha3") && err.contains("alpha_3"), "{err}");

    let mut mistyped = country.clone();
    mistyped["numeric"] = json!(116);
    let err = check(200, &json_headers, &mistyped).expect_err("a number for a string");
    assert!(err.contains("numeric"), "{err}");

    let err = check(418, &json_headers, &country).expect_err("an undeclared status");
    assert!(err.contains("418"), "{err}");

    let mut text = HeaderMap::new();
    text.insert("content-type", "text/plain".parse().expect("header"));
    let err = check(200, &text, &country).expect_err("a wrong content type");
    assert!(err.contains("text/plain"), "{err}");

    let problem = json!({"type": "/problems/unauthorized", "title": "Unauthorized",
        "status": 401, "detail": "the bearer token is invalid or expired"});
    let mut problem_headers = HeaderMap::new();
    problem_headers.insert(
        "content-type",
        "application/problem+json".parse().expect("header"),
    );
    let err = check(401, &problem_headers, &problem).expect_err("no WWW-Authenticate");
    assert!(err.contains("WWW-Authenticate"), "{err}");
    problem_headers.insert("www-authenticate", "Bearer".parse().expect("header"));
    assert_eq!(check(401, &problem_headers, &problem), Ok(()));
    // A problem whose type does not fit its status.
    let wrong = json!({"type": "/problems/not-found", "title": "Not found", "status": 401,
        "detail": "x"});
    assert!(check(401, &problem_headers, &wrong).is_err());
}

/// One pass over every operation of the spec with valid requests on the Lianyungang data, each
/// answer checked against the spec; the pass must reach a success status on every operation,
/// so an operation added to the spec and the routes must be added here too.
#[actix_web::test]
async fn every_operation_answers_as_the_spec_says() {
    let app = spawn_app().await;
    app.import_data().await;
    let owner = app.organiser("owner@example.org", false).await;
    let editor = app.organiser("editor@example.org", false).await;
    let t = Some(owner.token.as_str());
    let get = |path: String| {
        let app = &app;
        async move { app.get(&path, t).await }
    };

    // Operations and documentation.
    for path in [
        "/health/live",
        "/health/ready",
        "/api-spec/openapi.yaml",
        "/docs",
        "/docs/",
        "/docs/swagger-ui-bundle.js",
        "/docs/favicon-32x32.png",
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("send");
        assert!(r.status().as_u16() < 400, "{path}: {}", r.status());
    }
    let (s, _) = get("/docs/nope.js".to_string()).await;
    assert_eq!(s, 404);
    let icon = app
        .client
        .get(format!("{}/docs/favicon-16x16.png", app.address))
        .send()
        .await
        .expect("send");
    let png = icon.bytes().await.unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");

    // Auth.
    let (s, token) = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"email": "Owner@Example.org", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(s, 200, "{token}");
    let (s, me) = get("/api/v1/me".to_string()).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("owner@example.org")));

    // Countries.
    let (s, list) = get("/api/v1/countries?q=Lao%20PDR&limit=5".to_string()).await;
    assert_eq!((s, list["items"][0]["code"].as_str()), (200, Some("LA")));
    let (s, kh) = get("/api/v1/countries/KHM".to_string()).await;
    assert_eq!((s, kh["code"].as_str()), (200, Some("KH")));
    let (s, history) =
        get("/api/v1/countries/KH/attendance?from=2025-01-01&to=2025-12-31".into()).await;
    assert_eq!(
        (s, history["items"][0]["status"].as_str()),
        (200, Some("attended"))
    );

    // Organisations.
    let (s, orgs) = get("/api/v1/organisations?q=migration&kind=intergovernmental".into()).await;
    assert_eq!(s, 200, "{orgs}");
    let iom = orgs["items"][0].clone();
    assert_eq!(iom["acronym"], "IOM");
    let (s, _) = get(format!("/api/v1/organisations/{}", id(&iom))).await;
    assert_eq!(s, 200);
    let (s, history) = get(format!("/api/v1/organisations/{}/attendance", id(&iom))).await;
    assert_eq!(
        (s, history["items"][0]["conference"]["id"].as_str()),
        (200, Some(LIANYUNGANG))
    );
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Asian Development Bank", "acronym": "ADB", "kind": "intergovernmental",
                    "country": "Philippines", "website": "https://www.adb.org"}),
        )
        .await;
    assert_eq!((s, org["country"].as_str()), (201, Some("PH")), "{org}");
    let org_url = format!("/api/v1/organisations/{}", id(&org));
    let (s, org) = app.patch(&org_url, t, &json!({"website": null})).await;
    assert_eq!((s, &org["website"]), (200, &Value::Null));
    let (s, log) = get(format!("{org_url}/log?limit=10")).await;
    assert_eq!(
        (s, log["items"][0]["action"].as_str()),
        (200, Some("update"))
    );

    // Conferences.
    let (s, list) =
        get("/api/v1/conferences?participant=Cambodia&country=CN&status=published".into()).await;
    assert_eq!(
        (s, list["items"][0]["id"].as_str()),
        (200, Some(LIANYUNGANG))
    );
    let (s, attendance) = get(format!(
        "/api/v1/conferences/{LIANYUNGANG}/attendance?order=protocol"
    ))
    .await;
    assert_eq!(
        (s, attendance["totals"]["countries"].as_i64()),
        (200, Some(13))
    );
    let (s, conf) = app
        .post(
            "/api/v1/conferences",
            t,
            &json!({"title": "Mekong Border Management Dialogue", "status": "published",
                    "theme": null, "start_date": "2026-03-10", "end_date": "2026-03-11",
                    "time_zone": "Asia/Bangkok",
                    "venue": {"name": null, "city": "Bangkok", "region": null, "country": "Thailand"},
                    "host_organisation_id": id(&org), "source_url": "https://example.org/mekong",
                    "participants_public": true}),
        )
        .await;
    assert_eq!(s, 201, "{conf}");
    let c = format!("/api/v1/conferences/{}", id(&conf));
    let (s, _) = get(c.clone()).await;
    assert_eq!(s, 200);
    let (s, conf) = app
        .patch(&c, t, &json!({"theme": "Borders that connect"}))
        .await;
    assert_eq!(
        (s, conf["theme"].as_str()),
        (200, Some("Borders that connect"))
    );
    let (s, added) = app
        .post(
            &format!("{c}/organisers"),
            t,
            &json!({"email": "editor@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!(
        (s, added["role"].as_str()),
        (202, Some("editor")),
        "{added}"
    );
    let (s, organisers) = app
        .get(&format!("{c}/organisers"), Some(&editor.token))
        .await;
    assert_eq!(
        (s, organisers["items"].as_array().map(Vec::len)),
        (200, Some(2))
    );

    // Delegations.
    let (s, th) = app
        .post(
            &format!("{c}/delegations"),
            t,
            &json!({"country": "THA", "role": "host", "authority": "Immigration Bureau",
                    "head": {"name": "Head of Delegation", "title": null}, "size": 5}),
        )
        .await;
    assert_eq!((s, th["country"].as_str()), (201, Some("TH")), "{th}");
    let (s, batch) = app
        .post(
            &format!("{c}/delegations"),
            t,
            &json!({"items": [{"country": "Lao PDR", "status": "confirmed"},
                              {"organisation_id": id(&iom), "role": "observer"}]}),
        )
        .await;
    assert_eq!(
        (s, batch["items"].as_array().map(Vec::len)),
        (201, Some(2)),
        "{batch}"
    );
    let (s, draft) = app
        .post(
            &format!("{c}/attendance/draft"),
            t,
            &json!({"text": "Delegations from Cambodia and Viet Nam attended the conference."}),
        )
        .await;
    assert_eq!(
        (s, draft["parties"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{draft}"
    );
    let (s, list) = get(format!(
        "{c}/delegations?status=registered&role=host&limit=10"
    ))
    .await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(1)));
    let d = format!("{c}/delegations/{}", id(&th));
    let (s, _) = get(d.clone()).await;
    assert_eq!(s, 200);
    let (s, th) = app
        .patch(&d, t, &json!({"status": "attended", "size": null}))
        .await;
    assert_eq!((s, th["status"].as_str()), (200, Some("attended")));

    // Members.
    let (s, member) = app
        .post(
            &format!("{d}/members"),
            t,
            &json!({"full_name": "Example Delegate", "title": "Director", "position": "Adviser",
                    "is_head": false, "email": "delegate@example.org"}),
        )
        .await;
    assert_eq!(s, 201, "{member}");
    let (s, members) = get(format!("{d}/members?limit=10")).await;
    assert_eq!(
        (s, members["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let m = format!("{d}/members/{}", id(&member));
    let (s, member) = app.patch(&m, t, &json!({"is_head": true})).await;
    assert_eq!((s, member["is_head"].as_bool()), (200, Some(true)));

    // Accreditation: invite a focal point, who accepts; then revoke it.
    let (s, invited) = app
        .post(
            &format!("{d}/focal-points"),
            t,
            &json!({"email": "focal.point@example.org", "name": "Focal Point"}),
        )
        .await;
    assert_eq!(s, 201, "{invited}");
    let (s, focal) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": app.invitation_code("focal.point@example.org").await, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(s, 200, "{focal}");
    let (s, me) = app.get("/api/v1/me", focal["access_token"].as_str()).await;
    assert_eq!(
        (s, me["focal_point_of"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (s, list) = get(format!("{d}/focal-points")).await;
    assert_eq!(
        (s, list["items"][0]["status"].as_str()),
        (200, Some("active"))
    );
    // The focal point nominates, the secretariat decides: an e-mail to the focal point,
    // whose delivery state the organisers read, and may queue again.
    let focal_token = focal["access_token"].as_str();
    let (s, nominee) = app
        .post(
            &format!("{d}/members"),
            focal_token,
            &json!({"full_name": "Nominee"}),
        )
        .await;
    assert_eq!(s, 201, "{nominee}");
    // Webhooks (nothing listens on port 9: its deliveries stay pending, retried).
    let (s, hook) = app
        .post(
            &format!("{c}/webhooks"),
            t,
            &json!({"url": "http://127.0.0.1:9/plenary", "events": ["member.updated", "nomination.decided"]}),
        )
        .await;
    assert_eq!(s, 201, "{hook}");
    let hook_url = format!("{c}/webhooks/{}", id(&hook));
    let (s, decided) = app
        .patch(
            &format!("{d}/members/{}", id(&nominee)),
            t,
            &json!({"nomination_status": "accepted", "nomination_note": "Welcome."}),
        )
        .await;
    assert_eq!(s, 200, "{decided}");
    let (s, messages) = get(format!("{c}/messages?kind=nomination_decided&limit=5")).await;
    assert_eq!(s, 200, "{messages}");
    let (s, resent) = app
        .post(
            &format!("{c}/messages/{}/resend", id(&messages["items"][0])),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(
        (s, resent["status"].as_str()),
        (202, Some("pending")),
        "{resent}"
    );
    let (s, hooks) = get(format!("{c}/webhooks?limit=5")).await;
    assert_eq!(
        (s, hooks["items"][0]["id"].clone()),
        (200, hook["id"].clone())
    );
    let (s, one) = get(hook_url.clone()).await;
    assert_eq!(
        (s, one["url"].as_str()),
        (200, Some("http://127.0.0.1:9/plenary"))
    );
    let (s, deliveries) = get(format!("{hook_url}/deliveries?limit=5")).await;
    assert_eq!(
        (s, deliveries["items"][0]["type"].as_str()),
        (200, Some("nomination.decided")),
        "{deliveries}"
    );
    let (s, _) = app.delete(&hook_url, t).await;
    assert_eq!(s, 204);

    // Badges and check-in: the accepted nominee of an attended delegation has one.
    let badge_url = format!("{d}/members/{}/badge", id(&nominee));
    let (s, badge) = get(badge_url.clone()).await;
    assert_eq!((s, badge["version"].as_i64()), (200, Some(1)), "{badge}");
    let (s, b) = app
        .patch(&badge_url, t, &json!({"category": "secretariat"}))
        .await;
    assert_eq!(
        (s, b["category"].as_str()),
        (200, Some("secretariat")),
        "{b}"
    );
    let (s, b) = app
        .post(&format!("{badge_url}/reissue"), t, &json!({}))
        .await;
    assert_eq!((s, b["version"].as_i64()), (200, Some(2)), "{b}");
    let (s, jwk) = get(format!("{c}/badges/key")).await;
    assert_eq!((s, jwk["crv"].as_str()), (200, Some("Ed25519")));
    let (s, revoked) = get(format!("{c}/badges/revoked")).await;
    assert_eq!((s, revoked["items"][0]["version"].as_i64()), (200, Some(1)));
    let (s, scans) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"items": [{"token": b["token"], "nonce": "door-1"}, {"token": badge["token"], "nonce": "door-2"}]}),
        )
        .await;
    assert_eq!(s, 200, "{scans}");
    assert_eq!(scans["items"][1]["result"], "revoked");
    let (s, list) = get(format!("{c}/check-ins?member_id={}", id(&nominee))).await;
    assert_eq!(
        (s, list["items"][0]["nonce"].as_str()),
        (200, Some("door-1"))
    );
    let (s, _) = app
        .delete(&format!("{d}/focal-points/{}", id(&invited)), t)
        .await;
    assert_eq!(s, 204);

    // Credentials: a PDF upload, its review and download.
    let (s, submitted) = crate::credentials::put_document(
        &app,
        &format!("{d}/credentials"),
        t,
        "application/pdf",
        crate::credentials::PDF.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{submitted}");
    let (s, reviewed) = app
        .patch(
            &format!("{d}/credentials"),
            t,
            &json!({"status": "provisional", "note": null}),
        )
        .await;
    assert_eq!(s, 200, "{reviewed}");
    let (s, _) = get(format!("{d}/credentials")).await;
    assert_eq!(s, 200);
    let r = app
        .client
        .get(format!("{}{d}/credentials/document", app.address))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);

    // Sessions.
    let (s, session) = app
        .post(
            &format!("{c}/sessions"),
            t,
            &json!({"title": "Opening", "kind": "opening", "starts_at": "2026-03-10T09:00",
                    "ends_at": "2026-03-10T10:00:00+07:00", "room": "Hall A", "chair": null,
                    "delegation_ids": [id(&th)]}),
        )
        .await;
    assert_eq!(
        (s, session["starts_at"].as_str()),
        (201, Some("2026-03-10T09:00:00+07:00")),
        "{session}"
    );
    let sessions = app
        .client
        .get(format!("{}{c}/sessions", app.address))
        .query(&[("limit", "5")])
        .send()
        .await
        .expect("send");
    assert_eq!(sessions.status().as_u16(), 200);
    let sid = format!("{c}/sessions/{}", id(&session));
    let (s, _) = get(sid.clone()).await;
    assert_eq!(s, 200);
    let (s, session) = app.patch(&sid, t, &json!({"room": null})).await;
    assert_eq!((s, &session["room"]), (200, &Value::Null));

    // Publishing attendance (issue 5) and the audit log (issue 4).
    let (s, _) = app
        .client
        .put(format!("{}{sid}/attendance", app.address))
        .bearer_auth(&owner.token)
        .json(&json!({"delegation_ids": [id(&th)]}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("send");
    assert_eq!(s, 200);
    let (s, _) = get(format!("{sid}/attendance")).await;
    assert_eq!(s, 200);
    let (s, _) = app
        .client
        .put(format!("{}{c}/protocol-order", app.address))
        .bearer_auth(&owner.token)
        .json(&json!({"delegation_ids": [id(&th)]}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("send");
    assert_eq!(s, 200);
    for path in [
        format!("{c}/protocol-order"),
        format!("{c}/participants"),
        format!("{c}/log"),
        format!("{c}/members?nomination_status=nominated"),
        format!("{c}/credentials?status=none"),
        format!("{c}/attendance?by=session"),
        "/api/v1/attendance/summary?region=Asia".to_string(),
    ] {
        let (s, body) = get(path.clone()).await;
        assert_eq!(s, 200, "{path}: {body}");
    }
    for file in [
        "attendance.csv",
        "participants.csv",
        "participants.html",
        "badges.html",
        "sessions.ics",
    ] {
        let r = app
            .client
            .get(format!("{}{c}/{file}", app.address))
            .bearer_auth(&owner.token)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 200, "{file}");
    }

    // Editions of the list of participants (issue 13).
    let (s, edition) = app
        .post(
            &format!("{c}/participants/editions"),
            t,
            &json!({"kind": "provisional"}),
        )
        .await;
    assert_eq!((s, edition["number"].as_i64()), (201, Some(1)), "{edition}");
    let (s, editions) = get(format!("{c}/participants/editions")).await;
    assert_eq!((s, editions["items"][0]["number"].as_i64()), (200, Some(1)));
    let (s, one) = get(format!("{c}/participants/editions/1")).await;
    assert_eq!(
        (s, one["edition"]["kind"].as_str()),
        (200, Some("provisional"))
    );
    let r = app
        .client
        .get(format!("{}{c}/participants/editions/1.csv", app.address))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200, "editions/1.csv");
    let r = app
        .client
        .get(format!("{}{c}/participants/editions/1.html", app.address))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200, "editions/1.html");
    assert!(String::from_utf8_lossy(r.body()).contains("edition"));

    // Deletes, innermost first; the conference goes with `cascade`.
    for path in [&m, &sid, &d] {
        let (s, _) = app.delete(path, t).await;
        assert_eq!(s, 204, "{path}");
    }
    let (s, _) = app.delete(&format!("{c}?cascade=true"), t).await;
    assert_eq!(s, 204);
    let (s, _) = app.delete(&org_url, t).await;
    assert_eq!(s, 204);

    // Passwords: a reset by e-mail, then a change (which ends the token it was sent with).
    let pw = app.organiser("passwords@example.org", false).await;
    let (s, _) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({"email": "passwords@example.org"}),
        )
        .await;
    assert_eq!(s, 202);
    let code = app
        .mails("passwords@example.org", "password_reset", 1)
        .await
        .remove(0)
        .code();
    let (s, reset) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"code": code, "password": "a new long passphrase"}),
        )
        .await;
    assert_eq!(s, 200, "{reset}");
    assert_eq!(app.get("/api/v1/me", Some(&pw.token)).await.0, 401);
    let (s, _) = app
        .post(
            "/api/v1/auth/password",
            reset["access_token"].as_str(),
            &json!({"current_password": "a new long passphrase", "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(s, 204);

    // Every operation of the spec reached a success status above.
    let succeeded: BTreeSet<(String, String)> = app
        .client
        .log()
        .into_iter()
        .filter(|(_, _, status)| *status < 400)
        .filter_map(|(m, path, _)| spec().template_for(&path).map(|t| (m, t)))
        .collect();
    let missing: Vec<_> = spec()
        .operations()
        .into_iter()
        .filter(|op| !succeeded.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations this test never ran successfully: {missing:?}"
    );
}
