//! Nominations (API.md "Accreditation"): focal points nominate, organisers accept; the
//! deadline, the quotas (under concurrency), the new conference and member fields, and the
//! list of participants with accepted members only.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::{id, problem_fields, spawn_app, stored_members, NominationSetup as Setup};

fn problem_type(body: &Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

#[actix_web::test]
async fn eight_simultaneous_nominations_with_three_places_left_give_exactly_three() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "race").await;
    x.quotas(&app, json!({"per_delegation": 3})).await;
    let path = x.members();
    let bodies: Vec<Value> = (0..8)
        .map(|i| json!({"full_name": format!("Nominee {i}")}))
        .collect();
    let results = futures::future::join_all(
        bodies
            .iter()
            .map(|b| app.post(&path, Some(&x.focal.token), b)),
    )
    .await;
    let created: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    let refused: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 409)
        .map(|(_, b)| b)
        .collect();
    assert_eq!((created.len(), refused.len()), (3, 5), "{results:?}");
    for b in &refused {
        assert_eq!(problem_type(b), "/problems/quota-exceeded", "{b}");
        assert_eq!(
            b["detail"], "no place left in this delegation: quota per_delegation (3) reached",
            "{b}"
        );
    }
    assert!(created
        .iter()
        .all(|b| b["nomination_status"] == "nominated"));
    assert_eq!(stored_members(&app, x.delegation).await, 3);
}

#[actix_web::test]
async fn category_quotas_count_nominated_and_accepted_members_but_not_rejected_ones() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "category").await;
    let path = x.members();
    let owner = Some(x.owner.token.as_str());
    let focal = Some(x.focal.token.as_str());
    x.quotas(&app, json!({"adviser": 1, "per_delegation": null}))
        .await;
    let (s, adviser) = app
        .post(
            &path,
            focal,
            &json!({"full_name": "First Adviser", "category": "adviser"}),
        )
        .await;
    assert_eq!(s, 201, "{adviser}");
    let (s, second) = app
        .post(
            &path,
            owner,
            &json!({"full_name": "Second Adviser", "category": "adviser"}),
        )
        .await;
    assert_eq!(s, 409, "organisers are bound by quotas too: {second}");
    assert_eq!(problem_type(&second), "/problems/quota-exceeded");
    assert_eq!(
        second["detail"],
        "no adviser place left in this delegation: quota adviser (1) reached"
    );
    // Another category has room; moving into the full one does not.
    let (s, rep) = app
        .post(&path, focal, &json!({"full_name": "A Representative"}))
        .await;
    assert_eq!(s, 201, "{rep}");
    assert_eq!(rep["category"], "representative");
    let rep_path = format!("{path}/{}", id(&rep));
    let (s, body) = app
        .patch(&rep_path, focal, &json!({"category": "adviser"}))
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(problem_type(&body), "/problems/quota-exceeded");
    // A rejected member does not count: its place is free again.
    let adviser_path = format!("{path}/{}", id(&adviser));
    let (s, body) = app
        .patch(
            &adviser_path,
            owner,
            &json!({"nomination_status": "rejected", "nomination_note": "No advisers this year."}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = app
        .patch(&rep_path, focal, &json!({"category": "adviser"}))
        .await;
    assert_eq!(s, 200, "{body}");
    // Counting the rejected one again would pass the quota.
    let (s, body) = app
        .patch(
            &adviser_path,
            owner,
            &json!({"nomination_status": "accepted"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(problem_type(&body), "/problems/quota-exceeded");
    let (_, list) = app.get(&path, owner).await;
    let statuses: Vec<(&str, &str)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["category"].as_str().unwrap_or_default(),
                m["nomination_status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![("adviser", "rejected"), ("adviser", "nominated")]
    );
}

#[actix_web::test]
async fn lowering_a_quota_keeps_the_members_already_there() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "lower").await;
    let path = x.members();
    let focal = Some(x.focal.token.as_str());
    x.quotas(&app, json!({"per_delegation": 5, "expert": 3}))
        .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (s, m) = app
            .post(
                &path,
                focal,
                &json!({"full_name": format!("Expert {i}"), "category": "expert"}),
            )
            .await;
        assert_eq!(s, 201, "{m}");
        ids.push(id(&m));
    }
    x.quotas(&app, json!({"per_delegation": 1, "expert": 0}))
        .await;
    let (_, conf) = app.get(&x.conference_path(), None).await;
    assert_eq!(
        conf["quotas"],
        json!({"per_delegation": 1, "representative": null, "alternate": null,
               "adviser": null, "expert": 0, "observer": null, "support": null})
    );
    assert_eq!(stored_members(&app, x.delegation).await, 3);
    // Members already there may still be changed (without moving category)...
    let (s, body) = app
        .patch(
            &format!("{path}/{}", ids[0]),
            focal,
            &json!({"position": "Legal expert"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // ...but no one new is admitted.
    let (s, body) = app
        .post(&path, focal, &json!({"full_name": "One Too Many"}))
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(
        body["detail"],
        "no place left in this delegation: quota per_delegation (1) reached"
    );
    assert_eq!(stored_members(&app, x.delegation).await, 3);
    // No quotas at all: anyone is admitted.
    x.quotas(&app, Value::Null).await;
    let (s, body) = app
        .post(&path, focal, &json!({"full_name": "Now Welcome"}))
        .await;
    assert_eq!(s, 201, "{body}");
}

#[actix_web::test]
async fn focal_points_nominate_and_organisers_accept() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "flow").await;
    let path = x.members();
    let owner = Some(x.owner.token.as_str());
    let focal = Some(x.focal.token.as_str());
    let (s, m) = app
        .post(
            &path,
            focal,
            &json!({"full_name": "Chan Sophea", "family_name": "Chan", "honorific": "H.E.",
                    "native_name": "ចាន់ សុភា", "gender": "female", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["nomination_status"], "nominated");
    assert_eq!(m["nomination_note"], Value::Null);
    assert_eq!(m["category"], "representative");
    assert_eq!(m["native_name"], "ចាន់ សុភា");
    let member = format!("{path}/{}", id(&m));
    // A nominee heads no delegation until it is accepted.
    let delegation = format!("{}/delegations/{}", x.conference_path(), x.delegation);
    let head = async || app.get(&delegation, None).await.1["head"].clone();
    assert_eq!(head().await, Value::Null);
    let (s, accepted) = app
        .patch(
            &member,
            owner,
            &json!({"nomination_status": "accepted", "nomination_note": "Credentials seen.\nWelcome."}),
        )
        .await;
    assert_eq!(s, 200, "{accepted}");
    assert_eq!(accepted["nomination_status"], "accepted");
    assert_eq!(accepted["nomination_note"], "Credentials seen.\nWelcome.");
    assert_eq!(head().await, json!({"name": "Chan Sophea", "title": null}));
    // A focal point may not review, not even its own nominations: 403, nothing changed.
    for body in [
        json!({"nomination_status": "accepted"}),
        json!({"position": "Minister", "nomination_note": "please"}),
    ] {
        let (s, refused) = app.patch(&member, focal, &body).await;
        assert_eq!(s, 403, "{refused}");
    }
    let (s, refused) = app
        .post(
            &path,
            focal,
            &json!({"full_name": "Self Accepted", "nomination_status": "accepted"}),
        )
        .await;
    assert_eq!(s, 403, "{refused}");
    assert_eq!(stored_members(&app, x.delegation).await, 1);
    let (_, list) = app.get(&path, focal).await;
    assert_eq!(list["items"][0], accepted, "nothing changed");
    // Sending the same values changes nothing, so the acceptance stands...
    let (s, same) = app
        .patch(&member, focal, &json!({"family_name": "Chan"}))
        .await;
    assert_eq!(s, 200, "{same}");
    assert_eq!(same["nomination_status"], "accepted");
    // ...while a real change goes back to the organisers.
    let (s, changed) = app
        .patch(&member, focal, &json!({"position": "Secretary of State"}))
        .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["nomination_status"], "nominated");
    assert_eq!(changed["position"], "Secretary of State");
    assert_eq!(head().await, Value::Null, "back under review");
    // A rejected nomination changed by the focal point is nominated again.
    let (s, _) = app
        .patch(&member, owner, &json!({"nomination_status": "rejected"}))
        .await;
    assert_eq!(s, 200);
    let (s, again) = app
        .patch(&member, focal, &json!({"title": "Minister"}))
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["nomination_status"], "nominated");
    // An organiser's member starts accepted, unless the body says otherwise.
    let (s, o) = app
        .post(&path, owner, &json!({"full_name": "Sok Dara"}))
        .await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["nomination_status"], "accepted");
    let (s, o) = app
        .post(
            &path,
            owner,
            &json!({"full_name": "Keo Vanna", "nomination_status": "nominated"}),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["nomination_status"], "nominated");
    // An organiser's change leaves the status alone.
    let (s, o) = app
        .patch(
            &format!("{path}/{}", id(&o)),
            owner,
            &json!({"position": "Adviser"}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["nomination_status"], "nominated");
}

#[actix_web::test]
async fn after_the_deadline_focal_points_are_refused_and_organisers_are_not() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "deadline").await;
    let path = x.members();
    let owner = Some(x.owner.token.as_str());
    let focal = Some(x.focal.token.as_str());
    // A deadline still ahead binds no one yet.
    let (s, conf) = app
        .patch(
            &x.conference_path(),
            owner,
            &json!({"nominations_close_at": "2999-01-01T17:00:00+08:00"}),
        )
        .await;
    assert_eq!(s, 200, "{conf}");
    assert_eq!(conf["nominations_close_at"], "2999-01-01T09:00:00Z");
    let (s, m) = app
        .post(&path, focal, &json!({"full_name": "Early Bird"}))
        .await;
    assert_eq!(s, 201, "{m}");
    let member = format!("{path}/{}", id(&m));
    let (s, conf) = app
        .patch(
            &x.conference_path(),
            owner,
            &json!({"nominations_close_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{conf}");
    for (s, body) in [
        app.post(&path, focal, &json!({"full_name": "Latecomer"}))
            .await,
        app.patch(&member, focal, &json!({"position": "Late change"}))
            .await,
        app.delete(&member, focal).await,
    ] {
        assert_eq!(s, 409, "{body}");
        assert_eq!(
            problem_type(&body),
            "/problems/nominations-closed",
            "{body}"
        );
    }
    assert_eq!(stored_members(&app, x.delegation).await, 1);
    let (_, list) = app.get(&path, focal).await;
    assert_eq!(list["items"][0], m, "nothing changed");
    // Organisers are not bound.
    let (s, body) = app
        .post(
            &path,
            owner,
            &json!({"full_name": "Added By The Secretariat"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = app
        .patch(&member, owner, &json!({"nomination_status": "accepted"}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(app.delete(&member, owner).await.0, 204);
    // Reopened (null): the focal point may write again.
    let (s, _) = app
        .patch(
            &x.conference_path(),
            owner,
            &json!({"nominations_close_at": null}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = app
        .post(&path, focal, &json!({"full_name": "Latecomer"}))
        .await;
    assert_eq!(s, 201, "{body}");
}

#[actix_web::test]
async fn invalid_conference_fields_are_422_naming_each_and_store_nothing() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "badconf").await;
    let owner = Some(x.owner.token.as_str());
    let count_conferences = async || {
        use plenary::db::schema::conferences;
        let mut conn = app.conn().await;
        conferences::table
            .count()
            .get_result::<i64>(&mut conn)
            .await
            .expect("count conferences")
    };
    let before = count_conferences().await;
    let (s, body) = app
        .post(
            "/api/v1/conferences",
            owner,
            &json!({
                "title": "Bad Fields", "start_date": "2025-09-17", "end_date": "2025-09-18",
                "time_zone": "Asia/Shanghai", "venue": {"city": "Lianyungang", "country": "CN"},
                "protocol_host": "middle",
                "nominations_close_at": "2025-09-01 17:00",
                "quotas": {"per_delegation": -1, "adviser": "two", "delegates": 3,
                           "expert": 1.5, "observer": 100001}
            }),
        )
        .await;
    let mut fields = problem_fields(&body, 422);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "nominations_close_at",
            "protocol_host",
            "quotas.adviser",
            "quotas.delegates",
            "quotas.expert",
            "quotas.observer",
            "quotas.per_delegation",
        ],
        "{body}"
    );
    assert_eq!(s, 422);
    assert_eq!(count_conferences().await, before);
    // PATCH: the same rules, and a non-nullable protocol_host; the conference is unchanged.
    let (_, unchanged) = app.get(&x.conference_path(), owner).await;
    assert_eq!(unchanged["protocol_host"], "first");
    assert_eq!(unchanged["quotas"], Value::Null);
    assert_eq!(unchanged["nominations_close_at"], Value::Null);
    for (body, field) in [
        (json!({"protocol_host": null}), "protocol_host"),
        (json!({"protocol_host": "First"}), "protocol_host"),
        (json!({"quotas": 3}), "quotas"),
        (json!({"quotas": [1]}), "quotas"),
        (json!({"quotas": {"support": -2}}), "quotas.support"),
        (json!({"quotas": {"Adviser": 1}}), "quotas.Adviser"),
        (
            json!({"nominations_close_at": 20250901}),
            "nominations_close_at",
        ),
        (
            json!({"nominations_close_at": "2025-09-01T17:00:00"}),
            "nominations_close_at",
        ),
        (
            json!({"title": "Renamed", "quotas": {"per_delegation": 2, "x": 1}}),
            "quotas.x",
        ),
    ] {
        let (s, problem) = app.patch(&x.conference_path(), owner, &body).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert_eq!(problem_fields(&problem, 422), vec![field], "{body}");
    }
    let (_, after) = app.get(&x.conference_path(), owner).await;
    assert_eq!(after, unchanged);
    // The valid forms are stored and returned.
    let (s, conf) = app
        .patch(
            &x.conference_path(),
            owner,
            &json!({"protocol_host": "last", "quotas": {"per_delegation": 0, "support": null}}),
        )
        .await;
    assert_eq!(s, 200, "{conf}");
    assert_eq!(conf["protocol_host"], "last");
    assert_eq!(conf["quotas"]["per_delegation"], 0);
    assert_eq!(conf["quotas"]["support"], Value::Null);
}

#[actix_web::test]
async fn invalid_member_fields_are_422_naming_each_and_store_nothing() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "badmember").await;
    let path = x.members();
    let owner = Some(x.owner.token.as_str());
    let (s, body) = app
        .post(
            &path,
            owner,
            &json!({
                "full_name": "Valid Name",
                "family_name": "x".repeat(201),
                "native_name": "张\u{7}伟",
                "honorific": "H".repeat(41),
                "category": "delegate",
                "gender": "unknown",
                "nomination_status": "pending",
                "nomination_note": "n".repeat(2001),
            }),
        )
        .await;
    let mut fields = problem_fields(&body, 422);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "category",
            "family_name",
            "gender",
            "honorific",
            "native_name",
            "nomination_note",
            "nomination_status",
        ],
        "{body}"
    );
    assert_eq!(s, 422);
    for (body, field) in [
        (
            json!({"full_name": "A", "family_name": "Evil\u{202E}Name"}),
            "family_name",
        ),
        (
            json!({"full_name": "A", "native_name": "two\nlines"}),
            "native_name",
        ),
        (json!({"full_name": "A", "honorific": 7}), "honorific"),
        (json!({"full_name": "A", "category": null}), "category"),
        (
            json!({"full_name": "A", "nomination_status": null}),
            "nomination_status",
        ),
        (
            json!({"full_name": "A", "nomination_note": "bell\u{7}"}),
            "nomination_note",
        ),
        (json!({"full_name": "A", "gender": "Female"}), "gender"),
    ] {
        let (s, problem) = app.post(&path, owner, &body).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert_eq!(problem_fields(&problem, 422), vec![field], "{body}");
    }
    assert_eq!(stored_members(&app, x.delegation).await, 0);
    // Trimmed and NFC-normalised; an empty name is null.
    let (s, m) = app
        .post(
            &path,
            owner,
            &json!({"full_name": "Nguyen Van A", "family_name": "  Nguye\u{0302}\u{0303}n  ",
                    "honorific": "H".repeat(40), "native_name": "",
                    "gender": null}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["family_name"], "Nguy\u{1EC5}n");
    assert_eq!(m["native_name"], Value::Null);
    let member = format!("{path}/{}", id(&m));
    for (body, field) in [
        (json!({"category": "Expert"}), "category"),
        (json!({"gender": 1}), "gender"),
        (json!({"family_name": "a\u{2066}b"}), "family_name"),
        (json!({"nomination_note": ["x"]}), "nomination_note"),
    ] {
        let (s, problem) = app.patch(&member, owner, &body).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert_eq!(problem_fields(&problem, 422), vec![field], "{body}");
    }
    let (_, list) = app.get(&path, owner).await;
    assert_eq!(list["items"][0], m, "unchanged");
}

#[actix_web::test]
async fn the_list_of_participants_shows_accepted_members_by_category_without_gender() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "lop").await;
    let path = x.members();
    let owner = Some(x.owner.token.as_str());
    let focal = Some(x.focal.token.as_str());
    let (s, _) = app
        .patch(
            &x.conference_path(),
            owner,
            &json!({"participants_public": true}),
        )
        .await;
    assert_eq!(s, 200);
    // Added in this order; the list shows head, then representative, adviser, support.
    for m in [
        json!({"full_name": "Support Staff", "category": "support", "gender": "male"}),
        json!({"full_name": "An Adviser", "category": "adviser", "gender": "other"}),
        json!({"full_name": "Second Rep", "gender": "female"}),
        json!({"full_name": "Rejected One", "nomination_status": "rejected", "gender": "male"}),
        json!({"full_name": "Chan Sophea", "honorific": "H.E.", "family_name": "Chan",
               "native_name": "ចាន់ សុភា", "category": "alternate", "is_head": true,
               "email": "sophea@example.kh", "gender": "female"}),
    ] {
        let (s, b) = app.post(&path, owner, &m).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = app
        .post(&path, focal, &json!({"full_name": "Only Nominated"}))
        .await;
    assert_eq!(s, 201, "{b}");
    let lop = format!("/api/v1/conferences/{}/participants", x.conference);
    let (s, public) = app.get(&lop, None).await;
    assert_eq!(s, 200, "{public}");
    let members = &public["delegations"][0]["members"];
    let names: Vec<&str> = members
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["full_name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Chan Sophea", "Second Rep", "An Adviser", "Support Staff"]
    );
    assert_eq!(
        members[0],
        json!({"honorific": "H.E.", "full_name": "Chan Sophea", "family_name": "Chan",
               "native_name": "ចាន់ សុភា", "title": null, "position": null,
               "category": "alternate", "is_head": true})
    );
    let text = public.to_string();
    assert!(
        !text.contains("gender") && !text.contains("\"email\""),
        "{text}"
    );
    // Organisers see emails, still no gender and no one not accepted.
    let (_, own) = app.get(&lop, owner).await;
    assert_eq!(
        own["delegations"][0]["members"][0]["email"],
        "sophea@example.kh"
    );
    let text = own.to_string();
    assert!(!text.contains("gender"), "{text}");
    assert!(
        !text.contains("Only Nominated") && !text.contains("Rejected One"),
        "{text}"
    );
    // The CSV follows the same list.
    let r = app
        .request(reqwest::Method::GET, &format!("{lop}.csv"), owner, None)
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let csv = r.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    assert!(!csv.contains("Only Nominated") && !csv.contains("Rejected One"));
}

#[actix_web::test]
async fn protocol_host_last_places_the_host_state_last_among_the_states() {
    let app = spawn_app().await;
    let owner = app.organiser("host-last@example.org", false).await;
    let t = Some(owner.token.as_str());
    let conf = app.conference(&owner, "published").await;
    let cid = id(&conf);
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Association of Southeast Asian Nations", "acronym": "ASEAN",
                    "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let (s, body) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"items": [
                {"country": "TH"},
                {"organisation_id": org["id"]},
                {"country": "CN", "role": "host"},
                {"country": "KH"},
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let order = async || -> Vec<String> {
        let (s, body) = app
            .get(
                &format!("/api/v1/conferences/{cid}/delegations?order=protocol"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{body}");
        body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d["country"].as_str().unwrap_or("org").to_string())
            .collect()
    };
    assert_eq!(order().await, ["CN", "KH", "TH", "org"]);
    let (s, body) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            t,
            &json!({"protocol_host": "last"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(order().await, ["KH", "TH", "CN", "org"]);
    let (s, att) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?order=protocol"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{att}");
    let countries: Vec<&str> = att["countries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["country"].as_str())
        .collect();
    assert_eq!(countries, ["KH", "TH", "CN"]);
}

#[actix_web::test]
async fn conference_documents_carry_the_new_fields_through_the_same_rules() {
    let app = spawn_app().await;
    let admin = app.organiser("import-admin@example.org", true).await;
    let mut conn = app.conn().await;
    let countries = plenary::store::reference::country_index(&mut conn)
        .await
        .expect("countries");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/lianyungang-2025.json"
    ))
    .expect("read");
    let mut doc: Value = serde_json::from_str(&text).expect("json");
    doc["conference"]["protocol_host"] = json!("last");
    doc["conference"]["quotas"] = json!({"per_delegation": 1, "seats": 2});
    doc["delegations"][0]["members"] = json!([
        {"full_name": "Wang Wei", "native_name": "王伟", "family_name": "Wang",
         "category": "adviser", "gender": "male"},
    ]);
    let import = async |conn: &mut diesel_async::AsyncPgConnection, doc: &Value| {
        plenary::import::import_document(conn, &countries, doc, "test", None)
            .await
            .map_err(|e| format!("{e:#}"))
    };
    let refused = import(&mut conn, &doc).await.err().unwrap_or_default();
    assert!(refused.contains("conference.quotas.seats"), "{refused}");
    // A document past its own quota is refused as a whole.
    doc["conference"]["quotas"] = json!({"per_delegation": 1});
    let mut two = doc.clone();
    if let Some(list) = two["delegations"][0]["members"].as_array_mut() {
        list.push(json!({"full_name": "Li Na"}));
    }
    let refused = import(&mut conn, &two).await.err().unwrap_or_default();
    assert!(
        refused.contains("quota per_delegation (1) reached"),
        "{refused}"
    );
    import(&mut conn, &doc).await.expect("import");
    let path = format!("/api/v1/conferences/{}", crate::helpers::LIANYUNGANG);
    let (s, conf) = app.get(&path, None).await;
    assert_eq!(s, 200, "{conf}");
    assert_eq!(conf["protocol_host"], "last");
    assert_eq!(conf["quotas"]["per_delegation"], 1);
    let (_, delegations) = app
        .get(
            &format!("{path}/delegations?order=protocol&limit=200"),
            None,
        )
        .await;
    let states: Vec<&str> = delegations["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["country"].as_str())
        .collect();
    assert_eq!(states.last(), Some(&"CN"), "the host last: {states:?}");
    let china = delegations["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["country"] == "CN")
        .map(id)
        .unwrap_or_default();
    let (s, members) = app
        .get(
            &format!("{path}/delegations/{china}/members"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(s, 200, "{members}");
    assert_eq!(members["items"][0]["native_name"], "王伟");
    assert_eq!(members["items"][0]["category"], "adviser");
    assert_eq!(members["items"][0]["nomination_status"], "accepted");
}

#[actix_web::test]
async fn the_secretariats_queue_lists_nominations_across_delegations() {
    let app = spawn_app().await;
    let x = Setup::new(&app, "queue").await;
    let owner = Some(x.owner.token.as_str());
    let focal = Some(x.focal.token.as_str());
    // Two nominations of the focal point's delegation, one accepted member of another's.
    for name in ["Sok Chea", "Chan Dara"] {
        let (s, m) = app
            .post(&x.members(), focal, &json!({"full_name": name}))
            .await;
        assert_eq!(s, 201, "{m}");
    }
    let (s, la) = app
        .post(
            &format!("{}/delegations", x.conference_path()),
            owner,
            &json!({"country": "LA"}),
        )
        .await;
    assert_eq!(s, 201, "{la}");
    let (s, _) = app
        .post(
            &format!("{}/delegations/{}/members", x.conference_path(), id(&la)),
            owner,
            &json!({"full_name": "Khamphout Vongsa"}),
        )
        .await;
    assert_eq!(s, 201);
    let queue = format!("{}/members", x.conference_path());
    let (s, all) = app.get(&queue, owner).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3), "{all}");
    let (s, waiting) = app
        .get(
            &format!("{queue}?nomination_status=nominated&limit=1"),
            owner,
        )
        .await;
    assert_eq!(s, 200, "{waiting}");
    assert_eq!(waiting["items"][0]["member"]["full_name"], "Sok Chea");
    assert_eq!(
        waiting["items"][0]["delegation_id"],
        x.delegation.to_string()
    );
    let cursor = waiting["next_cursor"].as_str().unwrap_or_default();
    let (_, next) = app
        .get(
            &format!("{queue}?nomination_status=nominated&limit=1&cursor={cursor}"),
            owner,
        )
        .await;
    assert_eq!(
        next["items"][0]["member"]["full_name"], "Chan Dara",
        "{next}"
    );
    assert!(next["next_cursor"].is_null(), "{next}");
    // Organisers only; a status it does not know is 422.
    assert_eq!(app.get(&queue, focal).await.0, 403);
    assert_eq!(app.get(&queue, None).await.0, 401);
    let (s, bad) = app
        .get(&format!("{queue}?nomination_status=maybe"), owner)
        .await;
    assert_eq!(s, 422, "{bad}");
}
