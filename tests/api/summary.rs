//! `GET /attendance/summary` and the attendance history of a country or organisation.

use serde_json::{json, Value};

use crate::helpers::{id, problem_fields, spawn_app, TestApp, BEIJING, LIANYUNGANG};

async fn conference(app: &TestApp, token: &str, title: &str, status: &str, date: &str) -> String {
    let (s, c) = app
        .post(
            "/api/v1/conferences",
            Some(token),
            &json!({"title": title, "status": status, "start_date": date, "end_date": date,
                    "time_zone": "Asia/Bangkok", "venue": {"city": "Bangkok", "country": "TH"}}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_str().unwrap_or_default().to_string()
}

async fn delegations(app: &TestApp, token: &str, cid: &str, items: Value) {
    let (s, b) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(token),
            &json!({"items": items}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

fn line<'a>(summary: &'a Value, code: &str) -> &'a Value {
    summary["items"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["country"] == code))
        .unwrap_or(&Value::Null)
}

#[actix_web::test]
async fn summary_for_asia_in_2025_after_importing_data() {
    let app = spawn_app().await;
    app.import_data().await;
    let (s, body) = app
        .get(
            "/api/v1/attendance/summary?region=Asia&from=2025-01-01&to=2025-12-31",
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    eprintln!("summary Asia 2025: {body:#}");
    let items = body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 13);
    assert_eq!(
        line(&body, "CN"),
        &json!({"country": "CN", "name": "China", "region": "Asia", "subregion": "Eastern Asia",
                "conferences": 1, "as_host": 1, "as_member": 0, "as_observer": 0, "as_guest": 0})
    );
    assert_eq!(line(&body, "KH")["as_member"], 1);
    assert_eq!(line(&body, "KR")["subregion"], "Eastern Asia");
    assert!(items
        .iter()
        .all(|l| l["region"] == "Asia" && l["conferences"] == 1));
    // All tie at one conference, so by name.
    assert_eq!(items[0]["name"], "Brunei Darussalam");
    assert_eq!(items[12]["name"], "Viet Nam");
    let (_, sea) = app
        .get(
            "/api/v1/attendance/summary?region=Asia&subregion=South-eastern%20Asia",
            None,
        )
        .await;
    assert_eq!(sea["items"].as_array().map(Vec::len), Some(11));
    let (_, before) = app
        .get("/api/v1/attendance/summary?to=2022-12-31", None)
        .await;
    assert_eq!(before["items"], json!([]));
    let (_, europe) = app
        .get("/api/v1/attendance/summary?region=Europe", None)
        .await;
    assert_eq!(europe["items"], json!([]));
}

#[actix_web::test]
async fn summary_counts_roles_statuses_and_refuses_unknown_regions() {
    let app = spawn_app().await;
    let o = app.organiser("summary@example.org", false).await;
    let a = conference(&app, &o.token, "A", "published", "2025-03-01").await;
    let b = conference(&app, &o.token, "B", "cancelled", "2025-06-01").await;
    let c = conference(&app, &o.token, "C", "draft", "2025-07-01").await;
    let d = conference(&app, &o.token, "D", "published", "2024-07-01").await;
    delegations(&app, &o.token, &a, json!([
        {"country": "TH", "role": "host"}, {"country": "KH", "role": "observer"},
        {"country": "VN", "status": "declined"}, {"country": "FR", "role": "guest", "status": "confirmed"}
    ])).await;
    delegations(&app, &o.token, &b, json!([
        {"country": "TH"}, {"country": "KH", "status": "attended"}, {"country": "VN", "status": "invited"}
    ])).await;
    delegations(
        &app,
        &o.token,
        &c,
        json!([{"country": "TH"}, {"country": "VN"}]),
    )
    .await;
    delegations(
        &app,
        &o.token,
        &d,
        json!([{"country": "VN", "role": "host"}]),
    )
    .await;

    let (s, all) = app
        .get("/api/v1/attendance/summary?from=2025-01-01", None)
        .await;
    assert_eq!(s, 200, "{all}");
    let codes: Vec<&str> = all["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["country"].as_str()).collect())
        .unwrap_or_default();
    // Most conferences first (TH 2, KH 2), then by name; drafts, declined and invited never count.
    assert_eq!(codes, vec!["KH", "TH", "FR"]);
    assert_eq!(line(&all, "TH")["as_host"], 1);
    assert_eq!(line(&all, "TH")["as_member"], 1);
    assert_eq!(line(&all, "KH")["as_observer"], 1);
    assert_eq!(line(&all, "FR")["as_guest"], 1);
    assert_eq!(line(&all, "FR")["region"], "Europe");
    let (_, vn) = app.get("/api/v1/attendance/summary", None).await;
    assert_eq!(line(&vn, "VN")["as_host"], 1, "2024 counts without from");

    // Paged: one per page, never repeating.
    let mut seen = Vec::new();
    let mut path = "/api/v1/attendance/summary?from=2025-01-01&limit=1".to_string();
    loop {
        let (s, page) = app.get(&path, None).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/attendance/summary?from=2025-01-01&limit=1&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen, all["items"].as_array().cloned().unwrap_or_default());

    // Every UN M49 region and subregion that the OpenAPI document lists is accepted.
    for region in ["Africa", "Americas", "Asia", "Europe", "Oceania"] {
        let (s, _) = app
            .get(&format!("/api/v1/attendance/summary?region={region}"), None)
            .await;
        assert_eq!(s, 200, "{region}");
    }
    for sub in [
        "Eastern Africa",
        "Middle Africa",
        "Northern Africa",
        "Southern Africa",
        "Western Africa",
        "Caribbean",
        "Central America",
        "Northern America",
        "South America",
        "Central Asia",
        "Eastern Asia",
        "South-eastern Asia",
        "Southern Asia",
        "Western Asia",
        "Eastern Europe",
        "Northern Europe",
        "Southern Europe",
        "Western Europe",
        "Australia and New Zealand",
        "Melanesia",
        "Micronesia",
        "Polynesia",
    ] {
        let (s, _) = app
            .get(
                &format!(
                    "/api/v1/attendance/summary?subregion={}",
                    sub.replace(' ', "%20")
                ),
                None,
            )
            .await;
        assert_eq!(s, 200, "{sub}");
    }
    for (q, field) in [
        ("region=Atlantis", "region"),
        ("subregion=Middle%20Earth", "subregion"),
        ("region=Europe&subregion=South-eastern%20Asia", "subregion"),
        ("from=2025-13-01", "from"),
        ("from=2025-02-01&to=2025-01-01", "to"),
        ("limit=0", "limit"),
    ] {
        let (s, body) = app
            .get(&format!("/api/v1/attendance/summary?{q}"), None)
            .await;
        assert_eq!(problem_fields(&body, 422), vec![field], "{q}: {s}");
    }
}

#[actix_web::test]
async fn country_history_is_newest_first_and_paginated() {
    let app = spawn_app().await;
    app.import_data().await;
    let o = app.organiser("history@example.org", false).await;
    let older = conference(&app, &o.token, "Older", "published", "2024-05-01").await;
    let newer = conference(&app, &o.token, "Newer", "cancelled", "2026-02-01").await;
    let draft = conference(&app, &o.token, "Draft", "draft", "2026-03-01").await;
    for cid in [&older, &newer, &draft] {
        delegations(
            &app,
            &o.token,
            cid,
            json!([{"country": "KH", "role": "observer"}]),
        )
        .await;
    }
    let mut ids = Vec::new();
    let mut path = "/api/v1/countries/Cambodia/attendance?limit=1".to_string();
    loop {
        let (s, page) = app.get(&path, None).await;
        assert_eq!(s, 200, "{page}");
        assert!(page["items"].as_array().is_some_and(|a| a.len() <= 1));
        for item in page["items"].as_array().into_iter().flatten() {
            ids.push(
                item["conference"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/countries/Cambodia/attendance?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        ids,
        vec![
            newer.clone(),
            LIANYUNGANG.to_string(),
            older.clone(),
            BEIJING.to_string()
        ],
        "drafts hidden"
    );
    let (_, mine) = app
        .get("/api/v1/countries/KH/attendance", Some(&o.token))
        .await;
    assert_eq!(
        mine["items"][0]["conference"]["id"],
        json!(draft),
        "its organiser sees the draft"
    );
    let (_, ranged) = app
        .get(
            "/api/v1/countries/KH/attendance?from=2025-01-01&to=2025-12-31",
            None,
        )
        .await;
    assert_eq!(ranged["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(ranged["items"][0]["role"], "member");
    assert_eq!(
        app.get("/api/v1/countries/XX/attendance", None).await.0,
        404
    );
}

// A contract fix reported by outside clients (summary filters in any letter case).
#[actix_web::test]
async fn summary_filters_accept_any_letter_case() {
    let app = spawn_app().await;
    let o = app.organiser("summary-case@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    for country in ["KH", "FR"] {
        let (s, d) = app
            .post(
                &format!("/api/v1/conferences/{}/delegations", id(&conf)),
                t,
                &json!({ "country": country }),
            )
            .await;
        assert_eq!(s, 201, "{d}");
    }
    let codes = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l["country"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for query in [
        "region=Asia",
        "region=asia",
        "region=ASIA",
        "region=%20asia%20",
        "subregion=south-eastern%20asia",
        "region=asia&subregion=SOUTH-EASTERN%20ASIA",
    ] {
        let (s, body) = app
            .get(&format!("/api/v1/attendance/summary?{query}"), None)
            .await;
        assert_eq!(s, 200, "{query}: {body}");
        assert_eq!(codes(&body), vec!["KH".to_string()], "{query}");
        let line = &body["items"][0];
        assert_eq!(line["region"], "Asia", "{query}");
        assert_eq!(line["subregion"], "South-eastern Asia", "{query}");
    }
    for query in [
        "region=asiaa",
        "region=europe&subregion=south-eastern%20asia",
    ] {
        let (s, body) = app
            .get(&format!("/api/v1/attendance/summary?{query}"), None)
            .await;
        assert_eq!(s, 422, "{query}: {body}");
    }
}
