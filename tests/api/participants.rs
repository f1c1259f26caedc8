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
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
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
            "protocol_position",
            "delegation",
            "country",
            "organisation_id",
            "role",
            "status",
            "authority",
            "is_head",
            "full_name",
            "title",
            "member_position",
            "email"
        ]
    );
    assert_eq!(rows.len(), 1 + 4, "{rows:?}");
    assert_eq!(rows[1][1..3], ["China".to_string(), "CN".to_string()]);
    assert_eq!(rows[1][8], "王伟");
    assert_eq!(rows[1][10], "'=Director", "a formula is made inert");
    assert_eq!(
        rows[2][7..],
        [
            "true",
            "Chan Sophea",
            "H.E.",
            "Secretary of State",
            "sophea@example.kh"
        ]
        .map(String::from)
    );
    assert_eq!(rows[3][8], "Sok Dara");
    assert_eq!(rows[4][0], "3");
    assert_eq!(
        rows[4][8], "",
        "a delegation without members has one empty row"
    );

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
            .all(|r| r.len() == 11 && !r.iter().any(|c| c.contains('@'))));
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
