//! Protocol order: computed (by section: host and states by name, observer states,
//! intergovernmental organisations, other organisations) and explicit (drawn by lot).

use serde_json::{json, Value};

use crate::helpers::{problem_fields, spawn_app, TestApp, LIANYUNGANG};

/// The Lianyungang states in protocol order: the host, then by UN English short name (UN
/// M49), so the Republic of Korea sorts under R, after the Philippines (it sorted under K by
/// its ISO short name "Korea (Republic of)" before).
pub const LIANYUNGANG_PROTOCOL: &[&str] = &[
    "CN", "BN", "KH", "ID", "LA", "MY", "MM", "PH", "KR", "SG", "TH", "TL", "VN",
];

fn strs<'a>(v: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    v[list]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x[field].as_str()).collect())
        .unwrap_or_default()
}

/// The delegations of a conference in protocol order: alpha-2, or the organisation's name.
async fn protocol_codes(app: &TestApp, cid: &str) -> Vec<String> {
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{cid}/delegations?order=protocol"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let mut out = Vec::new();
    for d in body["items"].as_array().into_iter().flatten() {
        match d["country"].as_str() {
            Some(code) => out.push(code.to_string()),
            None => {
                let id = d["organisation_id"].as_str().unwrap_or_default();
                let (_, org) = app.get(&format!("/api/v1/organisations/{id}"), None).await;
                out.push(org["name"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

#[actix_web::test]
async fn lianyungang_protocol_order_puts_the_host_first_then_states_then_organisations() {
    let app = spawn_app().await;
    app.import_data().await;
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/attendance?order=protocol"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(strs(&body, "countries", "country"), LIANYUNGANG_PROTOCOL);
    assert_eq!(
        strs(&body, "organisations", "name"),
        vec![
            "International Organization for Migration",
            "Lancang-Mekong Integrated Law Enforcement and Security Cooperation Center"
        ]
    );
    // "the Philippines" and "the Republic of Korea" in the source sort by their UN names.
    let names = strs(&body, "countries", "name");
    assert_eq!(names[7], "Philippines", "{names:?}");
    assert_eq!(names[8], "Republic of Korea", "{names:?}");

    // The delegation list in protocol order, paged 4 at a time, gives the same order, with the
    // organisations after the states.
    let mut seen: Vec<Value> = Vec::new();
    let mut path = format!("/api/v1/conferences/{LIANYUNGANG}/delegations?order=protocol&limit=4");
    loop {
        let (s, page) = app.get(&path, None).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!(
                "/api/v1/conferences/{LIANYUNGANG}/delegations?order=protocol&limit=4&cursor={c}"
            )
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 15);
    let countries: Vec<&str> = seen.iter().filter_map(|d| d["country"].as_str()).collect();
    assert_eq!(countries, LIANYUNGANG_PROTOCOL);
    assert!(seen[13..].iter().all(|d| d["organisation_id"].is_string()));
    // A cursor of the creation-order list is not one of the protocol-order list.
    let (_, first) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/delegations?limit=1"),
            None,
        )
        .await;
    let c = first["next_cursor"].as_str().unwrap_or_default();
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/delegations?order=protocol&cursor={c}"),
            None,
        )
        .await;
    assert_eq!(problem_fields(&body, 422), vec!["cursor"], "{s}");
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/delegations?order=size"),
            None,
        )
        .await;
    assert_eq!(problem_fields(&body, 422), vec!["order"], "{s}");
}

#[actix_web::test]
async fn an_explicit_protocol_order_wins_and_can_be_cleared() {
    let app = spawn_app().await;
    let owner = app.organiser("lot@example.org", false).await;
    let other = app.organiser("other@example.org", false).await;
    let conf = app.conference(&owner, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let mut orgs = Vec::new();
    for name in ["The Colombo Process", "Bali Process", "Ägäis Forum"] {
        let (s, org) = app
            .post(
                "/api/v1/organisations",
                Some(&owner.token),
                &json!({"name": name, "kind": "intergovernmental"}),
            )
            .await;
        assert_eq!(s, 201, "{org}");
        orgs.push(org["id"].clone());
    }
    let (s, created) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"items": [
                {"country": "Viet Nam"},
                {"country": "CN", "role": "host"},
                {"country": "Côte d'Ivoire"},
                {"country": "Bahamas"},
                {"organisation_id": orgs[0]},
                {"organisation_id": orgs[1], "role": "host"},
                {"organisation_id": orgs[2]},
                {"country": "Åland Islands", "status": "declined"}
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let ids: Vec<String> = created["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let order_path = format!("/api/v1/conferences/{cid}/protocol-order");
    // Computed by section: the host state, then states by name ignoring accents (Åland under
    // A, Côte d'Ivoire under C), then the intergovernmental organisations, the host one first,
    // the others by name ignoring accents and a leading "the" (The Colombo Process under C).
    assert_eq!(
        protocol_codes(&app, &cid).await,
        vec![
            "CN",
            "AX",
            "BS",
            "CI",
            "VN",
            "Bali Process",
            "Ägäis Forum",
            "The Colombo Process"
        ]
    );
    let (s, body) = app.get(&order_path, None).await;
    assert_eq!((s, body), (200, json!({"delegation_ids": []})));

    // Drawn by lot: Viet Nam, The Colombo Process, then the rest in computed order.
    let lot = json!({"delegation_ids": [ids[0], ids[4]]});
    assert_eq!(app.put(&order_path, Some(&owner.token), &lot).await.0, 200);
    assert_eq!(app.get(&order_path, None).await.1, lot);
    assert_eq!(
        protocol_codes(&app, &cid).await,
        vec![
            "VN",
            "The Colombo Process",
            "CN",
            "AX",
            "BS",
            "CI",
            "Bali Process",
            "Ägäis Forum"
        ]
    );
    let (_, att) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?order=protocol"),
            None,
        )
        .await;
    assert_eq!(
        strs(&att, "countries", "country"),
        vec!["VN", "CN", "BS", "CI"]
    );

    // Only its organisers may set it; foreign delegations and unknown fields are 422.
    assert_eq!(app.put(&order_path, Some(&other.token), &lot).await.0, 403);
    assert_eq!(app.put(&order_path, None, &lot).await.0, 401);
    let foreign = json!({"delegation_ids": [uuid::Uuid::now_v7().to_string()]});
    let (s, body) = app.put(&order_path, Some(&owner.token), &foreign).await;
    assert_eq!(problem_fields(&body, 422), vec!["delegation_ids"], "{s}");
    let bad = json!({"delegation_ids": "x", "rank": 1});
    let (_, body) = app.put(&order_path, Some(&owner.token), &bad).await;
    assert_eq!(problem_fields(&body, 422), vec!["delegation_ids", "rank"]);
    assert_eq!(
        app.get(&order_path, None).await.1,
        lot,
        "a refused PUT changes nothing"
    );

    // Deleting a ranked delegation drops it from the order; [] returns to the computed order.
    let (s, _) = app
        .delete(
            &format!("/api/v1/conferences/{cid}/delegations/{}", ids[0]),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        app.get(&order_path, None).await.1,
        json!({"delegation_ids": [ids[4]]})
    );
    assert_eq!(
        app.put(
            &order_path,
            Some(&owner.token),
            &json!({"delegation_ids": []})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        protocol_codes(&app, &cid).await,
        vec![
            "CN",
            "AX",
            "BS",
            "CI",
            "Bali Process",
            "Ägäis Forum",
            "The Colombo Process"
        ]
    );
}

#[actix_web::test]
async fn lianyungang_states_are_named_and_ordered_by_their_un_names_host_first_or_last() {
    let app = spawn_app().await;
    app.import_data().await;
    let (s, body) = app
        .get(
            &format!("/api/v1/conferences/{LIANYUNGANG}/attendance?order=protocol"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names = strs(&body, "countries", "name");
    assert_eq!(
        names,
        [
            "China",
            "Brunei Darussalam",
            "Cambodia",
            "Indonesia",
            "Lao People's Democratic Republic",
            "Malaysia",
            "Myanmar",
            "Philippines",
            "Republic of Korea",
            "Singapore",
            "Thailand",
            "Timor-Leste",
            "Viet Nam",
        ]
    );
    // Every state of data/ whose UN name is not its ISO short name.
    let mut differing = Vec::new();
    for code in strs(&body, "countries", "country") {
        let (_, c) = app.get(&format!("/api/v1/countries/{code}"), None).await;
        if c["un_name"] != c["name"] {
            differing.push(format!("{code}: {} / {}", c["name"], c["un_name"]));
        }
    }
    assert_eq!(
        differing,
        ["KR: \"Korea (Republic of)\" / \"Republic of Korea\""]
    );
}
