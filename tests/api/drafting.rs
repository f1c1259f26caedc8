//! Attendance drafted from a text (API.md, "Attendance from a text"): the seed article, roles,
//! people, unresolved names, offsets, validation, and the batch that registers the draft
//! (with organisations named instead of their ids).

use serde_json::{json, Value};

use crate::helpers::{id, spawn_app, Organiser, TestApp};

const SEED: &str = include_str!("../../data/drafting/01-seed-lianyungang-2025.txt");

async fn conference(app: &TestApp, owner: &Organiser, host: Option<&str>) -> String {
    let mut body = json!({
        "title": "Drafted Conference",
        "status": "published",
        "start_date": "2025-09-17",
        "end_date": "2025-09-18",
        "time_zone": "Asia/Shanghai",
        "venue": {"city": "Lianyungang", "country": "CN"}
    });
    // The host defaults to the venue's country: Antarctica, named in no text, when the
    // text is to say who hosted.
    body["venue"]["country"] = json!(host.unwrap_or("AQ"));
    let (code, body) = app
        .post("/api/v1/conferences", Some(&owner.token), &body)
        .await;
    assert_eq!(code, 201, "{body}");
    id(&body)
}

async fn draft(app: &TestApp, owner: &Organiser, cid: &str, body: &Value) -> (u16, Value) {
    app.post(
        &format!("/api/v1/conferences/{cid}/attendance/draft"),
        Some(&owner.token),
        body,
    )
    .await
}

fn countries(d: &Value) -> Vec<String> {
    d["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["country"].as_str().map(str::to_string))
        .collect()
}

fn role_of(d: &Value, country: &str) -> String {
    d["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["country"] == country)
        .and_then(|p| p["role"].as_str())
        .unwrap_or("absent")
        .to_string()
}

/// Every mention's `start..end` (code points) is its `text` in the submitted text.
fn check_offsets(text: &str, d: &Value) {
    let chars: Vec<char> = text.chars().collect();
    let slice = |m: &Value| -> String {
        let s = m["start"].as_u64().unwrap_or(0) as usize;
        let e = m["end"].as_u64().unwrap_or(0) as usize;
        chars[s..e].iter().collect()
    };
    for p in d["parties"].as_array().into_iter().flatten() {
        for m in p["mentions"].as_array().into_iter().flatten() {
            assert_eq!(slice(m), m["text"].as_str().unwrap_or("?"), "{m}");
        }
    }
    for u in d["unresolved"].as_array().into_iter().flatten() {
        assert_eq!(slice(u), u["text"].as_str().unwrap_or("?"), "{u}");
    }
}

#[actix_web::test]
async fn the_seed_article_gives_its_13_states_and_2_organisations_china_host() {
    let app = spawn_app().await;
    let owner = app.organiser("drafter@example.org", false).await;
    let cid = conference(&app, &owner, Some("CN")).await;
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": SEED})).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        countries(&d),
        ["BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN", "KR", "CN"]
    );
    let orgs: Vec<&Value> = d["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.get("country").is_none())
        .collect();
    assert_eq!(orgs.len(), 2, "{d}");
    assert_eq!(
        orgs[0]["organisation"]["name"],
        "International Organization for Migration"
    );
    assert_eq!(orgs[0]["organisation"]["acronym"], "IOM");
    assert_eq!(
        orgs[1]["organisation"]["name"],
        "Lancang-Mekong Integrated Law Enforcement and Security Cooperation Center"
    );
    assert_eq!(role_of(&d, "CN"), "host");
    assert_eq!(role_of(&d, "LA"), "member");
    assert!(d["unresolved"].as_array().is_some_and(Vec::is_empty), "{d}");
    check_offsets(SEED, &d);
    // Nothing stored; the same text gives the same answer.
    let (_, again) = draft(&app, &owner, &cid, &json!({"text": SEED})).await;
    assert_eq!(again, d);
    let (_, list) = app
        .get(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // The request registers the draft as it is, organisations created in the same batch.
    let (code, saved) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &d["request"],
        )
        .await;
    assert_eq!(code, 201, "{saved}");
    assert_eq!(saved["items"].as_array().map(Vec::len), Some(15));
    let (_, after) = draft(&app, &owner, &cid, &json!({"text": SEED})).await;
    assert!(after["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|p| p["registered"] == true));
    assert_eq!(after["request"]["items"], json!([]));
    // The organisations are now the register's.
    assert!(
        after["parties"][13]["organisation_id"].is_string(),
        "{after}"
    );
}

#[actix_web::test]
async fn roles_people_and_unresolved_names() {
    let app = spawn_app().await;
    let owner = app.organiser("roles@example.org", false).await;
    let cid = conference(&app, &owner, None).await;
    let text = "The Ministerial Meeting, hosted by the Kingdom of Thailand, was attended by \
        Brunei Darussalam, Papua New\nGuinea and Nigeria, with Cambodia and Viet Nam as observers. \
        Korea also sent officials.\n\nH.E. Ms. Lan Dao, Deputy Minister of Home Affairs of Viet Nam, \
        spoke, as did Thai Deputy Prime Minister Somchai Wongsawat.";
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": text, "language": "en"})).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(countries(&d), ["TH", "BN", "PG", "NG", "KH", "VN"]);
    assert_eq!(role_of(&d, "TH"), "host");
    assert_eq!(role_of(&d, "PG"), "member");
    assert_eq!(role_of(&d, "KH"), "observer");
    assert_eq!(role_of(&d, "VN"), "observer");
    assert_eq!(d["unresolved"][0]["text"], "Korea");
    assert_eq!(d["unresolved"][0]["candidates"], json!(["KR", "KP"]));
    let pg = &d["parties"][2]["mentions"][0];
    assert_eq!(pg["text"], "Papua New\nGuinea");
    check_offsets(text, &d);
    let people = d["people"].as_array().cloned().unwrap_or_default();
    assert_eq!(people.len(), 2, "{d}");
    assert_eq!(people[0]["full_name"], "Lan Dao");
    assert_eq!(people[0]["honorific"], "H.E. Ms.");
    assert_eq!(people[0]["position"], "Deputy Minister of Home Affairs");
    assert_eq!(people[0]["party"], json!({"country": "VN"}));
    assert_eq!(people[1]["full_name"], "Somchai Wongsawat");
    assert_eq!(people[1]["position"], "Deputy Prime Minister");
    assert_eq!(people[1]["party"], json!({"country": "TH"}));
    // The request has the roles and `attended`.
    let items = d["request"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        items[0],
        json!({"country": "TH", "role": "host", "status": "attended"})
    );
}

#[actix_web::test]
async fn chinese_texts_and_the_conferences_settings_win() {
    let app = spawn_app().await;
    let owner = app.organiser("zh@example.org", false).await;
    let cid = conference(&app, &owner, Some("CN")).await;
    // A delegation already registered keeps its role.
    let (code, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"country": "老挝", "role": "guest"}),
        )
        .await;
    assert_eq!(code, 201);
    let text = "文莱、柬埔寨、印度尼西亚、老挝、大韩民国和中国移民管理部门官员出席会议，越南作为观察员出席。\
        国际移民组织（IOM）有关官员也出席了会议。泰国主办了上届会议。";
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": text, "language": "zh"})).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        countries(&d),
        ["BN", "KH", "ID", "LA", "KR", "CN", "VN", "TH"]
    );
    assert_eq!(role_of(&d, "LA"), "guest");
    assert_eq!(role_of(&d, "CN"), "host");
    assert_eq!(role_of(&d, "VN"), "observer");
    // Thailand hosted the previous meeting, not this one.
    assert_eq!(role_of(&d, "TH"), "member");
    let la = d["parties"][3].clone();
    assert_eq!(la["registered"], true);
    check_offsets(text, &d);
    assert!(d["request"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|i| i["country"] != "LA"));
}

#[actix_web::test]
async fn bad_drafts_are_refused_and_only_organisers_draft() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let other = app.organiser("other@example.org", false).await;
    let cid = conference(&app, &owner, None).await;
    for (body, field) in [
        (json!({"text": ""}), "text"),
        (json!({"text": "x".repeat(100_001)}), "text"),
        (json!({}), "text"),
        (json!({"text": 3}), "text"),
        (json!({"text": "Laos", "language": "fr"}), "language"),
        (json!({"text": "Laos", "language": "xx"}), "language"),
        (json!({"text": "Laos", "extra": 1}), "extra"),
    ] {
        let (code, p) = draft(&app, &owner, &cid, &body).await;
        assert_eq!(code, 422, "{body}: {p}");
        let named = p["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["field"] == field);
        assert!(named, "{p}");
    }
    let (code, _) = draft(&app, &owner, &cid, &json!({"text": "x".repeat(100_000)})).await;
    assert_eq!(code, 200);
    let (code, _) = draft(&app, &other, &cid, &json!({"text": "Laos"})).await;
    assert_eq!(code, 403);
    let (code, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/attendance/draft"),
            None,
            &json!({"text": "Laos"}),
        )
        .await;
    assert_eq!(code, 401);
}

#[actix_web::test]
async fn the_batch_names_organisations_and_country_input_is_the_gazetteers() {
    let app = spawn_app().await;
    let owner = app.organiser("batch@example.org", true).await;
    let cid = conference(&app, &owner, None).await;
    let (code, org) = app
        .post(
            "/api/v1/organisations",
            Some(&owner.token),
            &json!({"name": "Mekong River Commission", "acronym": "MRC", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(code, 201, "{org}");
    let path = format!("/api/v1/conferences/{cid}/delegations");
    // "Korea" is two countries: refused, naming both.
    let (code, p) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"items": [{"country": "Korea"}]}),
        )
        .await;
    assert_eq!(code, 422);
    assert!(p.to_string().contains("KR, KP"), "{p}");
    // An invalid organisation item refuses the whole batch.
    let (code, _) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"items": [{"country": "KH"}, {"organisation": {"name": "X Centre", "kind": "nope"}}]}),
        )
        .await;
    assert_eq!(code, 422);
    let (code, saved) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"items": [
                {"country": "大韩民国"},
                {"organisation": {"name": "mekong river COMMISSION", "acronym": null, "kind": "other"}},
                {"organisation": {"name": "Bali Process Regional Support Office", "acronym": "RSO", "kind": "intergovernmental"}, "role": "observer"}
            ]}),
        )
        .await;
    assert_eq!(code, 201, "{saved}");
    assert_eq!(saved["items"][0]["country"], "KR");
    assert_eq!(saved["items"][1]["organisation_id"], org["id"]);
    let created = saved["items"][2]["organisation_id"]
        .as_str()
        .unwrap_or_default();
    let (code, o) = app
        .get(
            &format!("/api/v1/organisations/{created}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(o["name"], "Bali Process Regional Support Office");
    assert_eq!(o["acronym"], "RSO");
    // The draft knows the register by acronym and name.
    let (_, d) = draft(
        &app,
        &owner,
        &cid,
        &json!({"text": "The MRC and the Bali Process Regional Support Office (RSO) attended."}),
    )
    .await;
    assert_eq!(d["parties"][0]["organisation_id"], org["id"]);
    assert_eq!(d["parties"][0]["registered"], true);
    assert_eq!(d["parties"][1]["organisation_id"], created);
    assert_eq!(d["parties"][1]["role"], "observer");
}

/// Four forms that once drafted wrong: a state's formal name read as an organisation ("the
/// Republic of the Union of Myanmar" gave a "Union of Myanmar"), a name closed by a region
/// ("... Co-operation in Europe" lost "in Europe"), the states a national body serves
/// (越南公安部 gave no Viet Nam) and a heading in capitals taken into the name below it.
#[actix_web::test]
async fn formal_names_regions_national_bodies_and_headings() {
    let app = spawn_app().await;
    let owner = app.organiser("forms@example.org", false).await;
    let cid = conference(&app, &owner, None).await;
    let text = "REGIONAL SECURITY WORKSHOP\nProgramme and participants\n\nThe Kingdom of Thailand and the \
        Republic of the Union of\nMyanmar attended. The Organization for Security and \
        Co-operation in Europe (OSCE) was represented.";
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": text})).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(countries(&d), ["TH", "MM"], "{d}");
    let orgs: Vec<&str> = d["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["mentions"][0]["text"].as_str())
        .filter(|t| !t.contains("Kingdom") && !t.contains("Republic"))
        .collect();
    assert_eq!(
        orgs,
        ["Organization for Security and Co-operation in Europe (OSCE)"],
        "{d}"
    );
    check_offsets(text, &d);
    let zh = "越南公安部副部长黎文成、泰国移民局局长巴猜出席会议并致辞。";
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": zh, "language": "zh"})).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(countries(&d), ["VN", "TH"], "{d}");
    check_offsets(zh, &d);
}

/// Found by a new user: "..., as well as observers from X" made the states before it
/// observers and X a member; the cue is X's.
#[actix_web::test]
async fn as_well_as_observers_from_names_the_observers_after_it() {
    let app = spawn_app().await;
    let owner = app.organiser("as-well-as@example.org", false).await;
    let cid = conference(&app, &owner, None).await;
    let text = "The meeting was attended by delegations of the Lao People's Democratic Republic, \
        Viet Nam, the Republic of Korea and Türkiye, as well as observers from the ASEAN \
        Secretariat and Japan.";
    let (code, d) = draft(&app, &owner, &cid, &json!({"text": text})).await;
    assert_eq!(code, 200, "{d}");
    let roles: Vec<(String, String)> = d["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let who = p["country"]
                .as_str()
                .or(p["name"].as_str())
                .unwrap_or_default()
                .to_string();
            (who, p["role"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let role_of = |who: &str| {
        roles
            .iter()
            .find(|(w, _)| w.contains(who))
            .map(|(_, r)| r.as_str())
    };
    for state in ["LA", "VN", "KR", "TR"] {
        assert_eq!(role_of(state), Some("member"), "{state}: {roles:?}");
    }
    assert_eq!(role_of("JP"), Some("observer"), "{roles:?} {d}");
    check_offsets(text, &d);
}
