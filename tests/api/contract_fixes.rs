//! Contract fixes reported by outside clients: the head of delegation as one fact, an `ETag`
//! on every single resource, summary filters in any letter case, the organisation log.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, TestApp};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

/// `attendance.csv` as (header, rows), split naively (the test's names hold no comma or quote).
async fn csv_rows(
    app: &TestApp,
    cid: &str,
    token: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let r = app
        .request(
            Method::GET,
            &format!("/api/v1/conferences/{cid}/attendance.csv"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn a_head_member_is_the_delegations_head_everywhere_and_its_head_is_then_read_only() {
    let app = spawn_app().await;
    let o = app.organiser("head@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let cid = id(&conf);
    let (s, kh) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH", "head": {"name": "Stored Head", "title": "Minister"}}),
        )
        .await;
    assert_eq!(s, 201, "{kh}");
    let (s, la) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "LA", "head": {"name": "Lao Stored Head"}}),
        )
        .await;
    assert_eq!(s, 201, "{la}");
    let did = id(&kh);
    let path = format!("/api/v1/conferences/{cid}/delegations/{did}");
    let (s, member) = app
        .post(
            &format!("{path}/members"),
            t,
            &json!({"full_name": "Sok Member Head", "title": "Secretary of State", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{member}");
    let expected = json!({"name": "Sok Member Head", "title": "Secretary of State"});

    // The delegation, both lists and the list of participants show the head member.
    let (s, one) = app.get(&path, t).await;
    assert_eq!(s, 200);
    assert_eq!(one["head"], expected, "{one}");
    for order in ["", "?order=protocol"] {
        let (s, list) = app
            .get(&format!("/api/v1/conferences/{cid}/delegations{order}"), t)
            .await;
        assert_eq!(s, 200, "{list}");
        let heads: Vec<&Value> = list["items"]
            .as_array()
            .map(|a| a.iter().map(|d| &d["head"]).collect())
            .unwrap_or_default();
        assert!(heads.contains(&&expected), "{order}: {list}");
        assert!(
            heads.contains(&&json!({"name": "Lao Stored Head", "title": null})),
            "{order}: {list}"
        );
    }
    let (s, participants) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    assert_eq!(s, 200, "{participants}");
    let kh_line = participants["delegations"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["country"] == "KH"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(kh_line["head"], expected, "{participants}");

    // attendance.csv: head_name and head_title are the member's; the stored head serves the
    // delegation without a head member.
    let rows = csv_rows(&app, &cid, &o.token).await;
    let kh_row = rows
        .iter()
        .find(|r| r["country"] == "KH")
        .cloned()
        .unwrap_or_default();
    assert_eq!(kh_row["head_name"], "Sok Member Head");
    assert_eq!(kh_row["head_title"], "Secretary of State");
    let la_row = rows
        .iter()
        .find(|r| r["country"] == "LA")
        .cloned()
        .unwrap_or_default();
    assert_eq!(la_row["head_name"], "Lao Stored Head");

    // A PATCH of head is 409 while a member is head (null included), and changes nothing.
    for head in [json!({"name": "Someone Else"}), Value::Null] {
        let (s, problem) = app.patch(&path, t, &json!({ "head": head })).await;
        assert_eq!(s, 409, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("is_head"),
            "{problem}"
        );
    }
    // Other fields still change, with the ETag of the representation that shows the member.
    let r = app.request(Method::GET, &path, t, None).await;
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let r = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", &etag)
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .expect("patch");
    let (s, patched) = status_json(r).await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["head"], expected);
    assert_eq!(patched["status"], "confirmed");

    // Once no member is head, the stored head (unchanged by the refused PATCHes) is back.
    let (s, m) = app
        .patch(
            &format!("{path}/members/{}", id(&member)),
            t,
            &json!({"is_head": false}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let (_, one) = app.get(&path, t).await;
    assert_eq!(
        one["head"],
        json!({"name": "Stored Head", "title": "Minister"})
    );
    let (s, patched) = app
        .patch(&path, t, &json!({"head": {"name": "New Stored Head"}}))
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["head"]["name"], "New Stored Head");
}

/// One header of a response, as text.
fn header(r: &crate::helpers::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[actix_web::test]
async fn every_single_resource_has_an_etag_and_answers_if_none_match_with_304() {
    let app = spawn_app().await;
    let o = app.organiser("etags@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let cid = id(&conf);
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "ETag Organisation", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let (s, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, session) = app
        .post(
            &format!("/api/v1/conferences/{cid}/sessions"),
            t,
            &json!({"title": "Opening", "starts_at": "2025-09-17T09:00:00", "ends_at": "2025-09-17T10:00:00"}),
        )
        .await;
    assert_eq!(s, 201, "{session}");
    let routes = [
        "/api/v1/countries/KH".to_string(),
        "/api/v1/countries/Cambodia".to_string(),
        format!("/api/v1/organisations/{}", id(&org)),
        format!("/api/v1/conferences/{cid}"),
        format!("/api/v1/conferences/{cid}/delegations/{}", id(&d)),
        format!("/api/v1/conferences/{cid}/sessions/{}", id(&session)),
        format!(
            "/api/v1/conferences/{cid}/sessions/{}/attendance",
            id(&session)
        ),
        format!("/api/v1/conferences/{cid}/protocol-order"),
    ];
    for path in &routes {
        let r = app.request(Method::GET, path, t, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let Some(etag) = header(&r, "etag") else {
            panic!("GET {path} has no ETag");
        };
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "{path}: {etag}"
        );
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&o.token)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 304, "{path}");
        assert_eq!(header(&r, "etag").as_deref(), Some(etag.as_str()), "{path}");
        assert!(r.body().is_empty(), "{path}");
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", "\"stale\"")
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 200, "{path} with a stale tag");
    }
}

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
