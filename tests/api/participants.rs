//! The list of participants (JSON and CSV): organisers only until it is made public; member
//! emails never public.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, LIANYUNGANG};
use crate::presence::fixture;
use crate::python::parse_with;

async fn csv_rows(
    app: &crate::helpers::TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, String, Vec<Vec<String>>) {
    let r = app.request(reqwest::Method::GET, path, token, None).await;
    let status = r.status().as_u16();
    let ct = r.header_text("content-type");
    let bytes = r.bytes().await.expect("body");
    if status != 200 {
        return (status, ct, Vec::new());
    }
    let rows: Vec<Vec<String>> =
        serde_json::from_value(parse_with("csv_dump.py", &bytes).await).expect("rows");
    (status, ct, rows)
}

#[actix_web::test]
async fn participants_are_private_until_public_and_emails_stay_with_organisers() {
    let app = spawn_app().await;
    let owner = app.organiser("list@example.org", false).await;
    let editor = app.organiser("list-editor@example.org", false).await;
    let stranger = app.organiser("list-stranger@example.org", false).await;
    let f = fixture(
        &app,
        &owner.token,
        "International Organization for Migration",
    )
    .await;
    let cid = &f.cid;
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/organisers"),
            Some(&owner.token),
            &json!({"email": "list-editor@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!(s, 202);
    // Cambodia: a member added first, then the head; China: one member without email.
    let kh = format!(
        "/api/v1/conferences/{cid}/delegations/{}/members",
        f.delegations[1]
    );
    for m in [
        json!({"full_name": "Sok Dara", "title": "Mr.", "position": "Deputy Director", "email": "dara@example.kh"}),
        json!({"full_name": "Chan Sophea", "title": "H.E.", "position": "Secretary of State", "is_head": true, "email": "sophea@example.kh"}),
    ] {
        let (s, b) = app.post(&kh, Some(&owner.token), &m).await;
        assert_eq!(s, 201, "{b}");
    }
    let cn = format!(
        "/api/v1/conferences/{cid}/delegations/{}/members",
        f.delegations[0]
    );
    let (s, _) = app
        .post(
            &cn,
            Some(&owner.token),
            &json!({"full_name": "王伟", "position": "=Director"}),
        )
        .await;
    assert_eq!(s, 201);

    let path = format!("/api/v1/conferences/{cid}/participants");
    let csv_path = format!("/api/v1/conferences/{cid}/participants.csv");
    // Not public yet: 404 to anyone but its organisers.
    assert_eq!(app.get(&path, None).await.0, 404);
    assert_eq!(app.get(&path, Some(&stranger.token)).await.0, 404);
    assert_eq!(csv_rows(&app, &csv_path, None).await.0, 404);
    let (s, list) = app.get(&path, Some(&editor.token)).await;
    assert_eq!(s, 200, "{list}");
    let names: Vec<&str> = list["delegations"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["name"].as_str()).collect())
        .unwrap_or_default();
    // Protocol order; Thailand declined and is not a participant.
    assert_eq!(
        names,
        vec![
            "China",
            "Cambodia",
            "International Organization for Migration"
        ]
    );
    assert_eq!(list["delegations"][1]["position"], 2);
    let kh_members = &list["delegations"][1]["members"];
    assert_eq!(kh_members[0]["full_name"], "Chan Sophea", "head first");
    assert_eq!(kh_members[0]["is_head"], true);
    assert_eq!(kh_members[0]["email"], "sophea@example.kh");
    assert_eq!(kh_members[1]["full_name"], "Sok Dara");
    assert_eq!(kh_members[1]["position"], "Deputy Director");
    assert_eq!(list["delegations"][0]["members"][0]["email"], Value::Null);
    assert_eq!(list["delegations"][2]["members"], json!([]));

    let (s, ct, rows) = csv_rows(&app, &csv_path, Some(&owner.token)).await;
    assert_eq!((s, ct.as_str()), (200, "text/csv; charset=utf-8"));
    assert_eq!(
        rows[0],
        vec![
            "section",
            "delegation",
            "honorific",
            "full_name",
            "family_name",
            "native_name",
            "title",
            "position",
            "category",
            "is_head",
            "email"
        ]
    );
    assert_eq!(rows.len(), 1 + 4, "{rows:?}");
    assert_eq!(rows[1][..2], ["states", "China"].map(String::from));
    assert_eq!(rows[1][3], "王伟");
    assert_eq!(rows[1][7], "'=Director", "a formula is made inert");
    assert_eq!(
        rows[2][3..],
        [
            "Chan Sophea",
            "",
            "",
            "H.E.",
            "Secretary of State",
            "representative",
            "true",
            "sophea@example.kh"
        ]
        .map(String::from)
    );
    assert_eq!(rows[3][3], "Sok Dara");
    assert_eq!(
        rows[4][3], "",
        "a delegation without members has one empty row"
    );
    assert!(!rows[4][1].is_empty(), "named all the same: {rows:?}");

    // Public: everyone reads it, without emails (the key is absent, not null).
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            Some(&owner.token),
            &json!({"participants_public": true}),
        )
        .await;
    assert_eq!(s, 200);
    for token in [None, Some(stranger.token.as_str())] {
        let (s, public) = app.get(&path, token).await;
        assert_eq!(s, 200, "{public}");
        let text = public.to_string();
        assert!(
            !text.contains("example.kh") && !text.contains("\"email\""),
            "{text}"
        );
        assert_eq!(
            public["delegations"][1]["members"][0]["full_name"],
            "Chan Sophea"
        );
        let (s, _, rows) = csv_rows(&app, &csv_path, token).await;
        assert_eq!(s, 200);
        assert!(!rows[0].contains(&"email".to_string()), "{:?}", rows[0]);
        assert!(rows
            .iter()
            .all(|r| r.len() == 10 && !r.iter().any(|c| c.contains('@'))));
    }
    // Organisers still see emails.
    let (_, own) = app.get(&path, Some(&owner.token)).await;
    assert_eq!(
        own["delegations"][1]["members"][1]["email"],
        "dara@example.kh"
    );
}

#[actix_web::test]
async fn lianyungang_participants_are_not_public() {
    let app = spawn_app().await;
    app.import_data().await;
    let admin = app.organiser("admin@example.org", true).await;
    let path = format!("/api/v1/conferences/{LIANYUNGANG}/participants");
    assert_eq!(app.get(&path, None).await.0, 404);
    let (s, list) = app.get(&path, Some(&admin.token)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["delegations"].as_array().map(Vec::len), Some(15));
    assert_eq!(
        list["delegations"][0]["authority"],
        "National Immigration Administration"
    );
    assert!(list["delegations"]
        .as_array()
        .is_some_and(|a| a.iter().all(|d| d["members"] == json!([]))));
}

/// `(section, name)` of each delegation of a list of participants.
fn sections_and_names(list: &Value) -> Vec<(String, String)> {
    list["delegations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["section"].as_str().unwrap_or_default().to_string(),
                d["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn lianyungang_lists_thirteen_states_host_first_or_last_then_two_organisations() {
    let app = spawn_app().await;
    app.import_data().await;
    let admin = app.organiser("lop-admin@example.org", true).await;
    let t = Some(admin.token.as_str());
    let path = format!("/api/v1/conferences/{LIANYUNGANG}/participants");
    let (s, list) = app.get(&path, t).await;
    assert_eq!(s, 200, "{list}");
    let states: Vec<&str> = list["delegations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["section"] == "states")
        .filter_map(|d| d["country"].as_str())
        .collect();
    assert_eq!(states, crate::protocol::LIANYUNGANG_PROTOCOL);
    let all = sections_and_names(&list);
    assert_eq!(all.len(), 15);
    assert_eq!(all[0], ("states".into(), "China".into()));
    assert_eq!(all[8], ("states".into(), "Republic of Korea".into()));
    assert_eq!(
        all[13..],
        [
            (
                "intergovernmental_organisations".to_string(),
                "International Organization for Migration".to_string()
            ),
            (
                "intergovernmental_organisations".to_string(),
                "Lancang-Mekong Integrated Law Enforcement and Security Cooperation Center"
                    .to_string()
            )
        ]
    );
    let positions: Vec<u64> = list["delegations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["position"].as_u64())
        .collect();
    assert_eq!(positions, (1..=15).collect::<Vec<u64>>());

    // The CSV carries the section of each row.
    let (s, _, rows) = csv_rows(&app, &format!("{path}.csv"), t).await;
    assert_eq!(s, 200);
    assert_eq!(rows[0][..2], ["section", "delegation"]);
    assert_eq!(rows[1][..2], ["states", "China"]);
    assert_eq!(
        rows[15][..2],
        [
            "intergovernmental_organisations",
            "Lancang-Mekong Integrated Law Enforcement and Security Cooperation Center"
        ]
    );

    // protocol_host "last": China last among the states, still before the organisations.
    let (s, b) = app
        .patch(
            &format!("/api/v1/conferences/{LIANYUNGANG}"),
            t,
            &json!({"protocol_host": "last"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, list) = app.get(&path, t).await;
    let all = sections_and_names(&list);
    assert_eq!(all[0].1, "Brunei Darussalam");
    assert_eq!(all[12], ("states".into(), "China".into()));
    assert_eq!(all[13].1, "International Organization for Migration");

    // The printable page, in the same order, under two headings.
    let (s, headers, page) = app.get_text(&format!("{path}.html"), t).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    assert!(page.contains("<h1>Conference on Regional Migration Governance Policies</h1>"));
    assert!(page.contains("Lianyungang, Jiangsu, China, 17 September 2025"));
    let at = |needle: &str| page.find(needle).unwrap_or(usize::MAX);
    assert!(at(">States</h2>") < at("Brunei Darussalam"));
    assert!(at("Philippines") < at("Republic of Korea"));
    assert!(at("Viet Nam") < at(">China</h3>"));
    assert!(at(">China</h3>") < at(">Intergovernmental organizations</h2>"));
    assert!(
        at(">Intergovernmental organizations</h2>")
            < at("International Organization for Migration")
    );
    assert_eq!(page.matches(r#"<section class="delegation">"#).count(), 15);
    assert!(page.contains("National Immigration Administration"));
}

#[actix_web::test]
async fn observer_states_and_other_organisations_have_sections_of_their_own() {
    let app = spawn_app().await;
    let owner = app.organiser("sections@example.org", false).await;
    let t = Some(owner.token.as_str());
    let conf = app.conference(&owner, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let org = |name: &'static str, kind: &'static str| {
        let app = &app;
        async move {
            let (s, o) = app
                .post(
                    "/api/v1/organisations",
                    t,
                    &json!({"name": name, "kind": kind}),
                )
                .await;
            assert_eq!(s, 201, "{o}");
            o["id"].clone()
        }
    };
    let ngo = org("Mekong Migration Network", "non_governmental").await;
    let asean = org("ASEAN Secretariat", "intergovernmental").await;
    let iom = org(
        "International Organization for Migration",
        "intergovernmental",
    )
    .await;
    let agency = org("Australian Border Force", "government_agency").await;
    let (s, b) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"items": [
                {"organisation_id": ngo},
                {"country": "JP", "role": "observer"},
                {"country": "KH"},
                {"organisation_id": iom, "role": "host"},
                {"country": "TH", "role": "guest"},
                {"organisation_id": asean, "role": "observer"},
                {"country": "CN", "role": "host"},
                {"country": "CH", "role": "observer"},
                {"organisation_id": agency},
                {"country": "LA", "status": "withdrawn"}
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, list) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    assert_eq!(s, 200, "{list}");
    let expected = [
        ("states", "China"),
        ("states", "Cambodia"),
        ("states", "Thailand"),
        ("observer_states", "Japan"),
        ("observer_states", "Switzerland"),
        // The host organisation first in its section, an observer organisation by its kind.
        (
            "intergovernmental_organisations",
            "International Organization for Migration",
        ),
        ("intergovernmental_organisations", "ASEAN Secretariat"),
        ("other_organisations", "Australian Border Force"),
        ("other_organisations", "Mekong Migration Network"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(sections_and_names(&list), expected);

    // An explicit order applies within each section: the list keeps its sections together.
    let ids: Vec<Value> = b["items"]
        .as_array()
        .map(|a| a.iter().map(|d| d["id"].clone()).collect())
        .unwrap_or_default();
    let (s, _) = app
        .put(
            &format!("/api/v1/conferences/{cid}/protocol-order"),
            t,
            &json!({"delegation_ids": [ids[0], ids[7], ids[4]]}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    let names: Vec<String> = sections_and_names(&list)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        names,
        [
            "Thailand",
            "China",
            "Cambodia",
            "Switzerland",
            "Japan",
            "International Organization for Migration",
            "ASEAN Secretariat",
            "Mekong Migration Network",
            "Australian Border Force"
        ]
    );

    // The printable page has the four headings in that order.
    let (s, _, page) = app
        .get_text(&format!("/api/v1/conferences/{cid}/participants.html"), t)
        .await;
    assert_eq!(s, 200, "{page}");
    let headings: Vec<usize> = [
        ">States</h2>",
        ">Observer States</h2>",
        ">Intergovernmental organizations</h2>",
        ">Other organizations</h2>",
    ]
    .iter()
    .map(|h| page.find(h).unwrap_or(usize::MAX))
    .collect();
    assert!(headings.windows(2).all(|w| w[0] < w[1]), "{headings:?}");
    assert!(headings[3] < page.find("Mekong Migration Network").unwrap_or(0));
}

#[actix_web::test]
async fn the_printable_list_escapes_every_text_shows_both_scripts_and_no_email() {
    let app = spawn_app().await;
    let owner = app.organiser("print@example.org", false).await;
    let stranger = app.organiser("print-stranger@example.org", false).await;
    let f = fixture(
        &app,
        &owner.token,
        "International Organization for Migration",
    )
    .await;
    let cid = &f.cid;
    let t = Some(owner.token.as_str());
    let cn = format!("/api/v1/conferences/{cid}/delegations/{}", f.delegations[0]);
    let (s, b) = app
        .patch(
            &cn,
            t,
            &json!({"authority": "\"></h3><h1>Injected</h1><style>*{display:none}</style>"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for m in [
        json!({"full_name": "Zhang Wei", "family_name": "Zhang", "native_name": "张伟",
               "honorific": "H.E.", "title": "Director-General", "position": "Department of Border Control",
               "is_head": true, "email": "zhang@example.cn", "gender": "male"}),
        json!({"full_name": "<script>alert(1)</script>", "position": "<img src=x onerror=alert(2)>",
               "category": "adviser", "email": "script@example.cn"}),
    ] {
        let (s, b) = app.post(&format!("{cn}/members"), t, &m).await;
        assert_eq!(s, 201, "{b}");
    }
    let kh = format!(
        "/api/v1/conferences/{cid}/delegations/{}/members",
        f.delegations[1]
    );
    let (s, b) = app
        .post(
            &kh,
            t,
            &json!({"full_name": "Nguyễn Văn An", "family_name": "Nguyễn", "honorific": "Mr.",
                    "category": "expert"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // A one-line field cannot carry a line break or a bidirectional override into the page.
    for bad in ["Two\nLines", "A\u{2028}B", "evil\u{202E}txt"] {
        let (s, _) = app.post(&kh, t, &json!({"full_name": bad})).await;
        assert_eq!(s, 422, "{bad:?}");
    }

    let path = format!("/api/v1/conferences/{cid}/participants.html");
    // The visibility of the JSON: private to its organisers.
    assert_eq!(app.get_text(&path, None).await.0, 404);
    assert_eq!(app.get_text(&path, Some(&stranger.token)).await.0, 404);
    let (s, headers, page) = app.get_text(&path, t).await;
    assert_eq!(s, 200, "{page}");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert!(header("content-security-policy").starts_with("default-src 'none'"));
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains(r#"<html lang="en">"#));
    assert!(page.contains("size: A4;") && page.contains("counter(pages)"));
    assert!(page.contains("Lianyungang International Conference Center, Lianyungang, Jiangsu, China, 17–18 September 2025"));
    // Names in both scripts, the family name in capitals, the function, the head marked.
    assert!(page.contains(r#"H.E. ZHANG Wei</span> <span class="native" lang="zh">张伟</span> <span class="head">(Head of Delegation)</span>"#), "{page}");
    assert!(page.contains("Director-General, Department of Border Control"));
    assert!(page.contains("Mr. NGUYỄN Văn An"));
    // Every text escaped: nothing stored adds an element.
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(page.contains("&quot;&gt;&lt;&#x2f;h3&gt;&lt;h1&gt;Injected"));
    for element in ["<script", "<img", "<h1>Injected", "<style>*"] {
        assert!(!page.contains(element), "{element} in {page}");
    }
    assert_eq!(page.matches("<h1>").count(), 1);
    assert_eq!(page.matches("<style>").count(), 1);
    // No external resource, no email (not even for organisers), no gender.
    assert!(!page.contains("http:") && !page.contains("https:") && !page.contains("src=\""));
    assert_eq!(page.matches("href=\"").count(), 1);
    assert!(page.contains(r#"<link rel="icon" href="data:,">"#));
    assert!(!page.contains("@example.cn") && !page.contains("male"));

    // Cached like the exports: the same tag gives 304.
    let etag = header("etag");
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&owner.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 304);

    // Public: everyone reads the same page.
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            t,
            &json!({"participants_public": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _, public) = app.get_text(&path, None).await;
    assert_eq!((s, public.as_str()), (200, page.as_str()));
}
