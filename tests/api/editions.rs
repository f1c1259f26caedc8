//! Editions of the official List of Participants (API.md "The official List of
//! Participants", "Editions"; issue 13 item 5): numbered, dated, frozen snapshots with
//! statistics, visible as `/participants`, 409 after the final one, audited.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::{problem_fields, spawn_app, TestApp};
use crate::presence::fixture;

/// The rows of `participant_editions` (to check that a refused request stored nothing).
async fn stored(app: &TestApp) -> i64 {
    use plenary::db::schema::participant_editions;
    let mut conn = app.conn().await;
    participant_editions::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

/// Status, `ETag` and body of a GET as text.
async fn text(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String) {
    let r = app.request(reqwest::Method::GET, path, token, None).await;
    let status = r.status().as_u16();
    let etag = r.header_text("etag");
    let body = r.text().await.unwrap_or_default();
    (status, etag, body)
}

/// A published conference (the presence fixture: CN host, KH, TH declined, IOM observer)
/// with members of known and unknown gender; returns its id and its delegations.
async fn conference_with_members(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let f = fixture(app, token, "International Organization for Migration").await;
    let members = |i: usize| {
        format!(
            "/api/v1/conferences/{}/delegations/{}/members",
            f.cid, f.delegations[i]
        )
    };
    for (i, m) in [
        (
            0,
            json!({"full_name": "Li Na", "is_head": true, "gender": "female", "email": "li@example.cn"}),
        ),
        (
            0,
            json!({"full_name": "Zhang Wei", "category": "adviser", "gender": "male"}),
        ),
        (0, json!({"full_name": "Chen Jie", "category": "expert"})),
        (
            1,
            json!({"full_name": "Sok Dara", "category": "alternate", "gender": "other", "email": "dara@example.kh"}),
        ),
        (
            1,
            json!({"full_name": "Chan Sophea", "is_head": true, "gender": "male"}),
        ),
        // Not listed: a nomination not yet accepted, and a member of a declined delegation.
        (
            1,
            json!({"full_name": "Keo Nominee", "nomination_status": "nominated", "gender": "female"}),
        ),
        (
            2,
            json!({"full_name": "Somchai Declined", "gender": "male"}),
        ),
        (
            3,
            json!({"full_name": "Observer One", "category": "observer", "gender": "female"}),
        ),
        (
            3,
            json!({"full_name": "Support One", "category": "support"}),
        ),
    ] {
        let (s, b) = app.post(&members(i), Some(token), &m).await;
        assert_eq!(s, 201, "{b}");
    }
    (f.cid, f.delegations)
}

fn editions(cid: &str) -> String {
    format!("/api/v1/conferences/{cid}/participants/editions")
}

#[actix_web::test]
async fn an_edition_is_frozen_when_delegations_and_members_change_afterwards() {
    let app = spawn_app().await;
    let owner = app.organiser("frozen@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, delegations) = conference_with_members(&app, &owner.token).await;

    let r = app
        .request(
            reqwest::Method::POST,
            &editions(&cid),
            t,
            Some(&json!({"kind": "provisional"})),
        )
        .await;
    assert_eq!(r.status().as_u16(), 201);
    let location = r.header_text("location");
    let created: Value = r.json().await.expect("json");
    assert_eq!(location, format!("{}/1", editions(&cid)));
    assert_eq!(created["number"], 1);
    assert_eq!(created["kind"], "provisional");
    assert_eq!(created["edition"]["number"], 1);
    assert_eq!(created["edition"]["as_of"], created["as_of"]);
    // `as_of` is the creation instant, RFC 3339.
    let as_of = chrono::DateTime::parse_from_rfc3339(created["as_of"].as_str().unwrap_or(""))
        .expect("as_of is RFC 3339");
    let age = chrono::Utc::now().signed_duration_since(as_of);
    assert!(age.num_seconds().abs() < 60, "as_of {as_of}");
    // The same body as /participants (for the public) at that moment.
    let (s, public_now) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    assert_eq!(s, 200);
    let names = |body: &Value| -> Vec<String> {
        body["delegations"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["members"].as_array().cloned().unwrap_or_default())
            .map(|m| m["full_name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(names(&created), names(&public_now));
    assert_eq!(created["delegations"].as_array().map(Vec::len), Some(3));
    assert_eq!(created["conference"]["id"], cid.as_str());

    let one = format!("{}/1", editions(&cid));
    let (s, etag, before) = text(&app, &one, t).await;
    assert_eq!(s, 200);
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let (s, _, csv_before) = text(&app, &format!("{one}.csv"), t).await;
    assert_eq!(s, 200);
    assert!(csv_before.contains("Li Na") && csv_before.contains("Sok Dara"));

    // Change a member's name, add a delegation with a member, retitle the conference.
    let (s, kh_members) = app
        .get(
            &format!(
                "/api/v1/conferences/{cid}/delegations/{}/members",
                delegations[1]
            ),
            t,
        )
        .await;
    assert_eq!(s, 200);
    let dara = kh_members["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["full_name"] == "Sok Dara")
        .and_then(|m| m["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let (s, b) = app
        .patch(
            &format!(
                "/api/v1/conferences/{cid}/delegations/{}/members/{dara}",
                delegations[1]
            ),
            t,
            &json!({"full_name": "Sok Dara Renamed"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, la) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "LA"}),
        )
        .await;
    assert_eq!(s, 201, "{la}");
    let (s, _) = app
        .post(
            &format!(
                "/api/v1/conferences/{cid}/delegations/{}/members",
                la["id"].as_str().unwrap_or_default()
            ),
            t,
            &json!({"full_name": "Latecomer"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            t,
            &json!({"title": "Renamed Conference"}),
        )
        .await;
    assert_eq!(s, 200);

    // The live list changed...
    let (_, live) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    assert!(names(&live).contains(&"Sok Dara Renamed".to_string()));
    assert!(names(&live).contains(&"Latecomer".to_string()));
    assert_eq!(live["delegations"].as_array().map(Vec::len), Some(4));
    // ...the edition and its CSV did not, byte for byte, nor its ETag.
    let (s, etag_after, after) = text(&app, &one, t).await;
    assert_eq!(s, 200);
    assert_eq!(after, before);
    assert_eq!(etag_after, etag);
    let frozen: Value = serde_json::from_str(&after).expect("json");
    assert_eq!(
        frozen["conference"]["title"],
        "Regional Consultation on Border Management"
    );
    assert!(names(&frozen).contains(&"Sok Dara".to_string()));
    assert!(!names(&frozen).contains(&"Latecomer".to_string()));
    let (_, _, csv_after) = text(&app, &format!("{one}.csv"), t).await;
    assert_eq!(csv_after, csv_before);
    let r = app
        .client
        .get(format!("{}{one}", app.address))
        .bearer_auth(&owner.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 304);

    // A second edition sees the changes.
    let (s, second) = app
        .post(&editions(&cid), t, &json!({"kind": "provisional"}))
        .await;
    assert_eq!((s, second["number"].as_i64()), (201, Some(2)), "{second}");
    assert!(names(&second).contains(&"Latecomer".to_string()));
    assert_eq!(second["conference"]["title"], "Renamed Conference");
}

#[actix_web::test]
async fn editions_are_numbered_and_nothing_follows_the_final_one() {
    let app = spawn_app().await;
    let owner = app.organiser("numbers@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, _) = conference_with_members(&app, &owner.token).await;
    let (s, list) = app.get(&editions(&cid), t).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(0)));
    let (s, first) = app
        .post(&editions(&cid), t, &json!({"kind": "provisional"}))
        .await;
    assert_eq!((s, first["number"].as_i64()), (201, Some(1)));
    let (s, last) = app
        .post(&editions(&cid), t, &json!({"kind": "final"}))
        .await;
    assert_eq!((s, last["number"].as_i64()), (201, Some(2)));
    assert_eq!(last["kind"], "final");
    for kind in ["provisional", "final"] {
        let (s, problem) = app.post(&editions(&cid), t, &json!({"kind": kind})).await;
        assert_eq!(s, 409, "{problem}");
        assert_eq!(problem["type"], "/problems/conflict");
    }
    assert_eq!(stored(&app).await, 2);
    // The list: oldest first, with statistics and no snapshot.
    let (s, list) = app.get(&editions(&cid), t).await;
    assert_eq!(s, 200);
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let numbers: Vec<i64> = items.iter().filter_map(|e| e["number"].as_i64()).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(items[1]["kind"], "final");
    assert_eq!(items[0]["statistics"], first["statistics"]);
    assert!(items[0].get("delegations").is_none());
    assert_eq!(list["next_cursor"], Value::Null);
    // Unknown numbers and non-numbers: 404.
    for n in ["3", "0", "-1", "01", "x", "1.5"] {
        let (s, _) = app.get(&format!("{}/{n}", editions(&cid)), t).await;
        assert_eq!(s, 404, "{n}");
        let (s, _, _) = text(&app, &format!("{}/{n}.csv", editions(&cid)), t).await;
        assert_eq!(s, 404, "{n}.csv");
    }
}

#[actix_web::test]
async fn simultaneous_editions_get_distinct_numbers_and_one_final_at_most() {
    let app = spawn_app().await;
    let owner = app.organiser("race@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, _) = conference_with_members(&app, &owner.token).await;
    let path = editions(&cid);
    let body = json!({"kind": "provisional"});
    let posts = (0..6).map(|_| app.post(&path, t, &body));
    let results = futures::future::join_all(posts).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["number"].as_i64().unwrap_or(0)
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6]);
    // Finals and provisionals racing: exactly one final, and nothing numbered after it.
    let finals = json!({"kind": "final"});
    let posts = (0..6).map(|i| app.post(&path, t, if i % 2 == 0 { &finals } else { &body }));
    let results = futures::future::join_all(posts).await;
    let won: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{results:?}"
    );
    let (_, list) = app.get(&path, t).await;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = items.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "final").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last(),
        Some(&"final"),
        "the final edition is the last"
    );
    let numbers: Vec<i64> = items.iter().filter_map(|e| e["number"].as_i64()).collect();
    let expected: Vec<i64> = (1..=i64::try_from(items.len()).unwrap_or(0)).collect();
    assert_eq!(numbers, expected);
    assert_eq!(items.len(), 6 + won.len());
}

#[actix_web::test]
async fn editions_are_visible_as_the_list_of_participants() {
    let app = spawn_app().await;
    let owner = app.organiser("seen@example.org", false).await;
    let stranger = app.organiser("seen-stranger@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, delegations) = conference_with_members(&app, &owner.token).await;
    let (s, created) = app
        .post(&editions(&cid), t, &json!({"kind": "provisional"}))
        .await;
    assert_eq!(s, 201);
    // Frozen for the public, whoever made it: no emails, never a gender, also for organisers.
    let text_of = created.to_string();
    for private in [
        "li@example.cn",
        "dara@example.kh",
        "\"gender\"",
        "\"email\"",
    ] {
        assert!(!text_of.contains(private), "{private} in {text_of}");
    }
    let paths = [
        editions(&cid),
        format!("{}/1", editions(&cid)),
        format!("{}/1.csv", editions(&cid)),
    ];
    // A private list: anonymous callers and other organisers 404, the organiser 200.
    for path in &paths {
        assert_eq!(text(&app, path, None).await.0, 404, "{path}");
        assert_eq!(
            text(&app, path, Some(&stranger.token)).await.0,
            404,
            "{path}"
        );
        let (s, _, body) = text(&app, path, t).await;
        assert_eq!(s, 200, "{path}");
        assert!(!body.contains("@example."), "{path}: {body}");
    }
    // A focal point of a delegation may not make an edition.
    let id = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
    let fp = app
        .focal_point("seen-fp@example.org", id(&cid), id(&delegations[1]))
        .await;
    let (s, _) = app
        .post(&editions(&cid), Some(&fp.token), &json!({"kind": "final"}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .post(
            &editions(&cid),
            Some(&stranger.token),
            &json!({"kind": "final"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .post(&editions(&cid), None, &json!({"kind": "final"}))
        .await;
    assert_eq!(s, 401);
    assert_eq!(stored(&app).await, 1);
    // Public: anyone reads them, still without emails; the CSV has no email column.
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            t,
            &json!({"participants_public": true}),
        )
        .await;
    assert_eq!(s, 200);
    for path in &paths {
        let (s, _, body) = text(&app, path, None).await;
        assert_eq!(s, 200, "{path}");
        assert!(!body.contains("@example."), "{path}: {body}");
    }
    let (_, _, csv) = text(&app, &paths[2], None).await;
    let header = csv.lines().next().unwrap_or_default();
    assert_eq!(
        header,
        "section,delegation,honorific,full_name,family_name,native_name,title,position,category,is_head"
    );
    // A draft conference's editions are its organisers' only.
    let draft = app.conference(&owner, "draft").await;
    let did = draft["id"].as_str().unwrap_or_default();
    let (s, _) = app
        .post(&editions(did), t, &json!({"kind": "provisional"}))
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        text(&app, &format!("{}/1", editions(did)), None).await.0,
        404
    );
}

#[actix_web::test]
async fn statistics_count_by_category_and_gender() {
    let app = spawn_app().await;
    let owner = app.organiser("stats@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, _) = conference_with_members(&app, &owner.token).await;
    let (s, e) = app
        .post(&editions(&cid), t, &json!({"kind": "provisional"}))
        .await;
    assert_eq!(s, 201, "{e}");
    // Listed: CN (Li Na f head, Zhang Wei m adviser, Chen Jie unknown expert), KH (Chan
    // Sophea m head, Sok Dara other alternate), IOM (Observer One f, Support One unknown).
    // Not listed: the nominee, and Thailand's member (declined).
    assert_eq!(
        e["statistics"],
        json!({
            "delegations": 3,
            "participants": 7,
            "by_category": {"representative": 2, "alternate": 1, "adviser": 1, "expert": 1,
                            "observer": 1, "support": 1},
            "by_gender": {"female": 2, "male": 2, "other": 1, "unknown": 2}
        })
    );
    assert_eq!(e["participants"], 7);
    // Genders are not stored per person in the snapshot.
    use plenary::db::schema::participant_editions;
    let mut conn = app.conn().await;
    let snapshot: Value = participant_editions::table
        .select(participant_editions::snapshot)
        .first(&mut conn)
        .await
        .expect("snapshot");
    let text = snapshot.to_string();
    assert!(!text.contains("gender") && !text.contains("female") && !text.contains("email"));
    // An empty list counts zero.
    let empty = app.conference(&owner, "published").await;
    let eid = empty["id"].as_str().unwrap_or_default();
    let (s, e) = app.post(&editions(eid), t, &json!({"kind": "final"})).await;
    assert_eq!(s, 201);
    assert_eq!(e["statistics"]["participants"], 0);
    assert_eq!(e["statistics"]["by_gender"]["unknown"], 0);
    assert_eq!(e["delegations"], json!([]));
}

#[actix_web::test]
async fn bad_requests_name_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let owner = app.organiser("bad-edition@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, _) = conference_with_members(&app, &owner.token).await;
    for (body, field) in [
        (json!({"kind": "draft"}), "kind"),
        (json!({}), "kind"),
        (json!({"kind": null}), "kind"),
        (json!({"kind": 2}), "kind"),
        (json!({"kind": "final", "number": 7}), "number"),
        (json!(["final"]), "body"),
    ] {
        let (s, problem) = app.post(&editions(&cid), t, &body).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert!(
            problem_fields(&problem, 422).contains(&field.to_string()),
            "{body}: {problem}"
        );
    }
    let r = app
        .client
        .post(format!("{}{}", app.address, editions(&cid)))
        .bearer_auth(&owner.token)
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(stored(&app).await, 0);
    let (s, list) = app.get(&editions(&cid), t).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(0)));
    // Another conference's id, or none: 404.
    let missing = uuid::Uuid::now_v7();
    let (s, _) = app
        .post(
            &editions(&missing.to_string()),
            t,
            &json!({"kind": "final"}),
        )
        .await;
    assert_eq!(s, 404);
}

#[actix_web::test]
async fn an_edition_is_in_the_audit_log_and_idempotent() {
    let app = spawn_app().await;
    let owner = app.organiser("logged@example.org", false).await;
    let t = Some(owner.token.as_str());
    let (cid, _) = conference_with_members(&app, &owner.token).await;
    let send = || {
        app.client
            .post(format!("{}{}", app.address, editions(&cid)))
            .bearer_auth(&owner.token)
            .header("Idempotency-Key", "edition-one")
            .json(&json!({"kind": "provisional"}))
            .send()
    };
    let first = send().await.expect("send");
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.expect("json");
    let again = send().await.expect("send");
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first);
    assert_eq!(stored(&app).await, 1);

    let (s, log) = app
        .get(&format!("/api/v1/conferences/{cid}/log?limit=5"), t)
        .await;
    assert_eq!(s, 200);
    let entry = &log["items"][0];
    assert_eq!(entry["resource_type"], "participants_edition", "{log}");
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["organiser_id"], owner.id.to_string());
    assert_eq!(entry["changes"]["created"]["number"], 1);
    assert_eq!(entry["changes"]["created"]["kind"], "provisional");
    assert_eq!(
        entry["changes"]["created"]["statistics"],
        first["statistics"]
    );
    assert!(entry["changes"]["created"].get("delegations").is_none());
    let logged = log["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["resource_type"] == "participants_edition")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(logged, 1, "the replay logged nothing");
}
