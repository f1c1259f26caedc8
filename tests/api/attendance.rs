use serde_json::json;

use crate::helpers::{spawn_app, BEIJING, LIANYUNGANG};

#[actix_web::test]
async fn lianyungang_attendance_has_13_countries_and_2_organisations() {
    let app = spawn_app().await;
    app.import_data().await;
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/attendance?order=protocol"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["totals"]["countries"], 13);
    assert_eq!(body["totals"]["organisations"], 2);
    let codes: Vec<&str> = body["countries"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["country"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes[0], "CN", "the host comes first in protocol order");
    let mut expected = vec![
        "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN", "KR", "CN",
    ];
    let mut got = codes.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(body["countries"]
        .as_array()
        .is_some_and(|a| a.iter().all(|c| c["status"] == "attended")));
    let acronyms: Vec<&str> = body["organisations"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["acronym"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(acronyms, vec!["IOM"]);
    assert_eq!(body["conference"]["time_zone"], "Asia/Shanghai");
    assert_eq!(body["conference"]["host_country"], "CN");
    assert_eq!(body["conference"]["venue"]["city"], "Lianyungang");
}

#[actix_web::test]
async fn only_registered_confirmed_and_attended_count() {
    let app = spawn_app().await;
    let o = app.organiser("count@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&o.token),
            &json!({"items": [
                {"country": "KH", "status": "attended", "size": 5},
                {"country": "TH", "status": "declined", "size": 3},
                {"country": "VN", "status": "invited"},
                {"country": "LA", "status": "confirmed"},
                {"country": "CN", "status": "registered", "role": "host", "size": 10}
            ]}),
        )
        .await;
    assert_eq!(s, 201);
    // Accepted members count where no size is stated (Lao PDR: 2; the nominated one not),
    // never where one is (Cambodia's 5 include its member) or the delegation does not count.
    let (s, list) = app
        .get(&format!("/api/v1/conferences/{cid}/delegations"), None)
        .await;
    assert_eq!(s, 200);
    let delegation = |code: &str| {
        list["items"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["country"] == code))
            .map(|d| d["id"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    for (code, name, status) in [
        ("LA", "Souksavanh P.", "accepted"),
        ("LA", "Khamphout V.", "accepted"),
        ("LA", "Bounmy S.", "nominated"),
        ("KH", "Sok Chea", "accepted"),
        ("VN", "Nguyễn An", "accepted"),
    ] {
        let path = format!(
            "/api/v1/conferences/{cid}/delegations/{}/members",
            delegation(code)
        );
        let (s, m) = app
            .post(&path, Some(&o.token), &json!({"full_name": name}))
            .await;
        assert_eq!(s, 201, "{m}");
        if status != "accepted" {
            let (s, _) = app
                .patch(
                    &format!("{path}/{}", m["id"].as_str().unwrap_or_default()),
                    Some(&o.token),
                    &json!({"nomination_status": status}),
                )
                .await;
            assert_eq!(s, 200);
        }
    }
    let (_, body) = app
        .get(&format!("/api/v1/conferences/{cid}/attendance"), None)
        .await;
    assert_eq!(
        body["totals"],
        json!({"countries": 3, "organisations": 0, "delegates": 17,
               "delegates_stated": 15, "delegates_listed": 2})
    );
    let names: Vec<&str> = body["countries"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["country"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        vec!["KH", "CN", "LA"],
        "by name: Cambodia, China, Lao"
    );
}

#[actix_web::test]
async fn country_and_organisation_history_and_participant_filter() {
    let app = spawn_app().await;
    app.import_data().await;
    let (s, kh) = app
        .get(
            "/api/v1/countries/KHM/attendance?from=2025-01-01&to=2025-12-31",
            None,
        )
        .await;
    assert_eq!(s, 200, "{kh}");
    assert_eq!(kh["items"][0]["conference"]["id"], LIANYUNGANG);
    assert_eq!(kh["items"][0]["status"], "attended");
    let (_, none) = app
        .get("/api/v1/countries/KH/attendance?to=2022-12-31", None)
        .await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    let (_, cn) = app.get("/api/v1/countries/China/attendance", None).await;
    assert_eq!(cn["items"][0]["role"], "host");
    let (_, orgs) = app.get("/api/v1/organisations?q=IOM", None).await;
    let iom = orgs["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, hist) = app
        .get(&format!("/api/v1/organisations/{iom}/attendance"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(hist["items"][0]["conference"]["id"], LIANYUNGANG);
    for p in ["KH", "Cambodia", iom.as_str()] {
        let (_, list) = app
            .get(
                &format!("/api/v1/conferences?participant={p}&from=2015-01-01"),
                None,
            )
            .await;
        assert_eq!(list["items"][0]["id"], LIANYUNGANG, "participant={p}");
    }
    let (_, list) = app.get("/api/v1/conferences?participant=FR", None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
}

/// `data/` holds two real meetings: the 2023 Beijing forum and the 2025 Lianyungang
/// conference, so country and organisation histories and the summary span both.
#[actix_web::test]
async fn histories_and_the_summary_span_the_two_real_meetings() {
    let app = spawn_app().await;
    app.import_data().await;
    let titles = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["conference"]["start_date"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let history = |code: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/countries/{code}/attendance"), None)
                .await
        }
    };
    // Cambodia ("Kingdom of Cambodia" in the Beijing document) attended both, newest first.
    let (s, kh) = history("KH").await;
    assert_eq!(s, 200);
    assert_eq!(titles(&kh), ["2025-09-17", "2023-06-26"]);
    // The Republic of Korea and Timor-Leste were at Lianyungang only.
    assert_eq!(titles(&history("KR").await.1), ["2025-09-17"]);
    assert_eq!(titles(&history("TL").await.1), ["2025-09-17"]);
    // Myanmar is "Republic of the Union of Myanmar" in the Beijing document.
    assert_eq!(titles(&history("MM").await.1), ["2025-09-17", "2023-06-26"]);
    // Beijing's participants: 11 states and 2 organisations.
    let (_, beijing) = app
        .get(&format!("/api/v1/conferences/{BEIJING}/attendance"), None)
        .await;
    assert_eq!(beijing["totals"]["countries"], 11, "{beijing}");
    assert_eq!(beijing["totals"]["organisations"], 2);
    // The summary for Asia counts both meetings, China hosting both.
    let (s, summary) = app
        .get("/api/v1/attendance/summary?region=asia", None)
        .await;
    assert_eq!(s, 200);
    let row = |code: &str| {
        summary["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["country"] == code).cloned())
            .unwrap_or_default()
    };
    assert_eq!(row("CN")["conferences"], 2);
    assert_eq!(row("CN")["as_host"], 2);
    assert_eq!(row("KH")["conferences"], 2);
    assert_eq!(row("KR")["conferences"], 1);
}
