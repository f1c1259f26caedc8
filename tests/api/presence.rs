//! Per-session attendance: `PUT`/`GET .../sessions/{sid}/attendance` and the presence matrix.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, id, problem_fields, spawn_app, status_json, TestApp};

/// A published conference in Asia/Shanghai with four delegations and three sessions.
pub struct Fixture {
    pub cid: String,
    /// CN (host), KH, TH (declined), the organisation.
    pub delegations: Vec<String>,
    /// Opening, plenary (day 1), closing (day 2), in time order.
    pub sessions: Vec<String>,
}

pub async fn fixture(app: &TestApp, token: &str, org_name: &str) -> Fixture {
    let (s, conf) = app
        .post(
            "/api/v1/conferences",
            Some(token),
            &json!({
                "title": "Regional Consultation on Border Management", "status": "published",
                "start_date": "2025-09-17", "end_date": "2025-09-18", "time_zone": "Asia/Shanghai",
                "venue": {"name": "Lianyungang International Conference Center", "city": "Lianyungang",
                          "region": "Jiangsu", "country": "CN"}
            }),
        )
        .await;
    assert_eq!(s, 201, "{conf}");
    let cid = id(&conf);
    let (s, org) = app
        .post(
            "/api/v1/organisations",
            Some(token),
            &json!({"name": org_name, "acronym": "IOM", "kind": "intergovernmental"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let (s, ds) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(token),
            &json!({"items": [
                {"country": "CN", "role": "host", "size": 12},
                {"country": "KH", "size": 3},
                {"country": "TH", "status": "declined"},
                {"organisation_id": org["id"], "role": "observer"}
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{ds}");
    let delegations = ds["items"]
        .as_array()
        .map(|a| a.iter().map(id).collect())
        .unwrap_or_default();
    let mut sessions = Vec::new();
    for (title, kind, start, end) in [
        (
            "Opening ceremony",
            "opening",
            "2025-09-17T09:00",
            "2025-09-17T10:00",
        ),
        (
            "Plenary: migration governance",
            "plenary",
            "2025-09-17T10:30",
            "2025-09-17T12:00",
        ),
        ("Closing", "closing", "2025-09-18T16:00", "2025-09-18T17:00"),
    ] {
        let (s, body) = app
            .post(
                &format!("/api/v1/conferences/{cid}/sessions"),
                Some(token),
                &json!({"title": title, "kind": kind, "starts_at": start, "ends_at": end}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        sessions.push(id(&body));
    }
    Fixture {
        cid,
        delegations,
        sessions,
    }
}

#[actix_web::test]
async fn presence_is_recorded_per_session_and_read_back_as_a_matrix() {
    let app = spawn_app().await;
    let owner = app.organiser("presence@example.org", false).await;
    let f = fixture(
        &app,
        &owner.token,
        "International Organization for Migration",
    )
    .await;
    let (cid, d, s) = (&f.cid, &f.delegations, &f.sessions);
    let opening = format!("/api/v1/conferences/{cid}/sessions/{}/attendance", s[0]);
    let plenary = format!("/api/v1/conferences/{cid}/sessions/{}/attendance", s[1]);

    let (st, empty) = app.get(&opening, None).await;
    assert_eq!(st, 200, "{empty}");
    assert_eq!(empty["delegation_ids"], json!([]));
    assert_eq!(empty["recorded_at"], Value::Null);

    // Given KH then CN, answered in protocol order (host first).
    let (st, body) = app
        .put(
            &opening,
            Some(&owner.token),
            &json!({"delegation_ids": [d[1], d[0]]}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["session_id"], json!(s[0]));
    assert_eq!(body["delegation_ids"], json!([d[0], d[1]]));
    let first_recorded = body["recorded_at"].clone();
    assert!(first_recorded.is_string(), "{body}");
    assert_eq!(
        app.get(&opening, None).await.1,
        body,
        "GET (anonymous) reads what PUT stored"
    );
    let (st, _) = app
        .put(
            &plenary,
            Some(&owner.token),
            &json!({"delegation_ids": [d[3]]}),
        )
        .await;
    assert_eq!(st, 200);

    // Presence is not the session's expected delegations.
    let (_, session) = app
        .get(
            &format!("/api/v1/conferences/{cid}/sessions/{}", s[0]),
            None,
        )
        .await;
    assert_eq!(session["delegation_ids"], json!([]));

    let (st, m) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?by=session&order=protocol"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let cols: Vec<&str> = m["sessions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        cols,
        vec![
            "Opening ceremony",
            "Plenary: migration governance",
            "Closing"
        ]
    );
    assert_eq!(m["sessions"][0]["starts_at"], "2025-09-17T09:00:00+08:00");
    let counts: Vec<i64> = m["sessions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["present"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(counts, vec![2, 1, 0]);
    let rows: Vec<(String, Value, i64)> = m["delegations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap_or_default().to_string(),
                        r["present"].clone(),
                        r["sessions_attended"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rows,
        vec![
            ("China".to_string(), json!([true, false, false]), 1),
            ("Cambodia".to_string(), json!([true, false, false]), 1),
            ("Thailand".to_string(), json!([false, false, false]), 0),
            (
                "International Organization for Migration".to_string(),
                json!([false, true, false]),
                1
            ),
        ]
    );
    assert_eq!(
        m["delegations"][2]["status"], "declined",
        "every status is a row"
    );
    let (_, by_name) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?by=session"),
            None,
        )
        .await;
    assert_eq!(
        by_name["delegations"][0]["name"], "Cambodia",
        "order=name is the default"
    );

    // Replacing keeps those still present (with their first recording time), drops the rest.
    let (st, body) = app
        .put(
            &opening,
            Some(&owner.token),
            &json!({"delegation_ids": [d[1]]}),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(body["delegation_ids"], json!([d[1]]));
    assert_eq!(body["recorded_at"], first_recorded);

    // Deleting a session deletes its presence.
    let (st, _) = app
        .delete(
            &format!("/api/v1/conferences/{cid}/sessions/{}", s[1]),
            Some(&owner.token),
        )
        .await;
    assert_eq!(st, 204);
    let (_, m) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?by=session&order=protocol"),
            None,
        )
        .await;
    assert_eq!(m["sessions"].as_array().map(Vec::len), Some(2));
    assert_eq!(m["delegations"][3]["present"], json!([false, false]));
    let (st, body) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?by=room"),
            None,
        )
        .await;
    assert_eq!(problem_fields(&body, 422), vec!["by"], "{st}");
}

#[actix_web::test]
async fn presence_refuses_foreign_delegations_sessions_and_callers() {
    let app = spawn_app().await;
    let owner = app.organiser("p-owner@example.org", false).await;
    let stranger = app.organiser("p-stranger@example.org", false).await;
    let a = fixture(&app, &owner.token, "Organisation A").await;
    let b = fixture(&app, &owner.token, "Organisation B").await;
    let path = format!(
        "/api/v1/conferences/{}/sessions/{}/attendance",
        a.cid, a.sessions[0]
    );
    let ok_body = json!({"delegation_ids": [a.delegations[0]]});

    // A delegation of another conference: 422 naming the field, and nothing stored.
    let (st, body) = app
        .put(
            &path,
            Some(&owner.token),
            &json!({"delegation_ids": [a.delegations[1], b.delegations[1]]}),
        )
        .await;
    assert_eq!(problem_fields(&body, 422), vec!["delegation_ids"], "{st}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains(&b.delegations[1])));
    assert_eq!(app.get(&path, None).await.1["delegation_ids"], json!([]));

    // A session of another conference under this conference's path: 404.
    let cross = format!(
        "/api/v1/conferences/{}/sessions/{}/attendance",
        a.cid, b.sessions[0]
    );
    assert_eq!(app.put(&cross, Some(&owner.token), &ok_body).await.0, 404);
    assert_eq!(app.get(&cross, None).await.0, 404);

    // Strict bodies, and only the conference's organisers may write.
    let (st, body) = app
        .put(
            &path,
            Some(&owner.token),
            &json!({"delegation_ids": ["nope"], "at": 1}),
        )
        .await;
    assert_eq!(
        problem_fields(&body, 422),
        vec!["delegation_ids", "at"],
        "{st}"
    );
    assert_eq!(app.put(&path, Some(&owner.token), &json!({})).await.0, 422);
    assert_eq!(app.put(&path, None, &ok_body).await.0, 401);
    assert_eq!(app.put(&path, Some(&stranger.token), &ok_body).await.0, 403);
    let r = app
        .client
        .put(format!("{}{path}", app.address))
        .bearer_auth(&owner.token)
        .body("delegation_ids=1")
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 415);
    assert_eq!(app.put(&path, Some(&owner.token), &ok_body).await.0, 200);

    // A draft's presence does not exist for others.
    let (s, draft) = app
        .patch(
            &format!("/api/v1/conferences/{}", a.cid),
            Some(&owner.token),
            &json!({"status": "draft"}),
        )
        .await;
    assert_eq!(s, 200, "{draft}");
    assert_eq!(app.get(&path, None).await.0, 404);
    assert_eq!(app.get(&path, Some(&stranger.token)).await.0, 404);
    assert_eq!(app.get(&path, Some(&owner.token)).await.0, 200);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(url: &str, sql: &str) -> i64 {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let mut conn = diesel_async::AsyncPgConnection::establish(url)
        .await
        .expect("connect");
    let rows: Vec<Count> = diesel::sql_query(sql).load(&mut conn).await.expect(sql);
    <[_]>::first(&rows).map(|r| r.n).unwrap_or(-1)
}

/// What the attendance migration adds: 2 tables, 1 column, 1 index.
async fn attendance_objects(url: &str) -> i64 {
    count(
        url,
        "SELECT (SELECT count(*) FROM information_schema.tables
                  WHERE table_name IN ('session_presence', 'delegation_protocol_ranks'))
              + (SELECT count(*) FROM information_schema.columns
                  WHERE table_name = 'conferences' AND column_name = 'search')
              + (SELECT count(*) FROM pg_indexes WHERE indexname = 'conferences_search_idx') AS n",
    )
    .await
}

#[actix_web::test]
async fn the_attendance_migration_down_sql_reverts_exactly_it() {
    use diesel_migrations::MigrationHarness;
    const VERSION: &str = "20251130000005";
    let db = fresh_database().await;
    let url = db.url.clone();
    assert_eq!(attendance_objects(&url).await, 4);
    let before = count(
        &url,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = diesel_async::async_connection_wrapper::AsyncConnectionWrapper::<
            diesel_async::AsyncPgConnection,
        >::establish(&u)
        .expect("connect");
        // Revert the migrations applied after ours (if any), then ours.
        loop {
            let applied = conn.applied_migrations().expect("applied");
            if !applied.iter().any(|v| v.to_string() == VERSION) {
                break;
            }
            conn.revert_last_migration(plenary::db::MIGRATIONS)
                .expect("revert");
        }
    })
    .await
    .expect("revert task");
    assert_eq!(attendance_objects(&url).await, 0);
    let after = count(
        &url,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    assert!(after <= before - 2, "{before} -> {after}");
    assert!(count(&url, "SELECT count(*) AS n FROM conferences").await >= 0);
    plenary::store::reference::migrate(&url)
        .await
        .expect("migrate again");
    assert_eq!(attendance_objects(&url).await, 4);
}

#[actix_web::test]
async fn concurrent_replacements_apply_one_after_the_other() {
    let app = spawn_app().await;
    let owner = app.organiser("race@example.org", false).await;
    let f = fixture(&app, &owner.token, "Organisation R").await;
    let path = format!(
        "/api/v1/conferences/{}/sessions/{}/attendance",
        f.cid, f.sessions[0]
    );
    let order = format!("/api/v1/conferences/{}/protocol-order", f.cid);
    // Disjoint-ish pairs, sent at once: no 409 or 500 from racing deletes and inserts, and the
    // result is exactly one of the pairs (never a mix of two).
    let d = &f.delegations;
    let bodies: Vec<Value> = (0..8)
        .map(|i| json!({"delegation_ids": [d[i % 4], d[(i + 1) % 4]]}))
        .collect();
    let presence =
        futures::future::join_all(bodies.iter().map(|b| app.put(&path, Some(&owner.token), b)));
    let orders = futures::future::join_all(
        bodies
            .iter()
            .map(|b| app.put(&order, Some(&owner.token), b)),
    );
    let (presence, orders) = futures::join!(presence, orders);
    for (st, body) in presence.iter().chain(&orders) {
        assert_eq!(*st, 200, "{body}");
    }
    let (_, now) = app.get(&path, None).await;
    let mut got: Vec<String> =
        serde_json::from_value(now["delegation_ids"].clone()).unwrap_or_default();
    got.sort();
    let won = bodies.iter().any(|b| {
        let mut sent: Vec<String> =
            serde_json::from_value(b["delegation_ids"].clone()).unwrap_or_default();
        sent.sort();
        sent == got
    });
    assert!(won, "one of the sets won: {now}");
    let (_, stored) = app.get(&order, None).await;
    assert!(bodies.contains(&stored), "one of the orders won: {stored}");
}

#[actix_web::test]
async fn presence_and_protocol_order_carry_etags_honour_if_match_and_are_audited() {
    let app = spawn_app().await;
    let owner = app.organiser("tags@example.org", false).await;
    let f = fixture(&app, &owner.token, "Organisation T").await;
    let d = &f.delegations;
    for (path, first, second) in [
        (
            format!(
                "/api/v1/conferences/{}/sessions/{}/attendance",
                f.cid, f.sessions[0]
            ),
            json!({"delegation_ids": [d[0]]}),
            json!({"delegation_ids": [d[1]]}),
        ),
        (
            format!("/api/v1/conferences/{}/protocol-order", f.cid),
            json!({"delegation_ids": [d[2], d[0]]}),
            json!({"delegation_ids": [d[1]]}),
        ),
    ] {
        let r = app.request(Method::GET, &path, None, None).await;
        let etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let etag = etag.unwrap_or_else(|| panic!("{path}: no ETag"));
        // A current tag lets the write through and gives a new tag.
        let r = app
            .client
            .put(format!("{}{path}", app.address))
            .bearer_auth(&owner.token)
            .header("if-match", &etag)
            .json(&first)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let new_etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        assert!(new_etag.as_ref().is_some_and(|t| *t != etag), "{path}");
        // The old tag is stale now: 412, and nothing changes.
        let r = app
            .client
            .put(format!("{}{path}", app.address))
            .bearer_auth(&owner.token)
            .header("if-match", &etag)
            .json(&second)
            .send()
            .await
            .expect("put");
        let (s, body) = status_json(r).await;
        assert_eq!(
            problem_fields(&body, 412),
            Vec::<String>::new(),
            "{path}: {s}"
        );
        let (_, now) = app.get(&path, None).await;
        assert_eq!(now["delegation_ids"], first["delegation_ids"], "{path}");
        let r = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", new_etag.unwrap_or_default())
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 304, "{path}");
    }
    // Both writes are in the conference's audit log, with what changed.
    let (s, log) = app
        .get(
            &format!("/api/v1/conferences/{}/log", f.cid),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 200, "{log}");
    let entries = log["items"].as_array().cloned().unwrap_or_default();
    let find = |kind: &str| entries.iter().find(|e| e["resource_type"] == kind).cloned();
    let presence = find("session_attendance").unwrap_or_default();
    assert_eq!(presence["action"], "update");
    assert_eq!(presence["resource_id"], json!(f.sessions[0]));
    assert_eq!(
        presence["changes"]["changed"]["delegation_ids"]["to"],
        json!([d[0]])
    );
    let order = find("protocol_order").unwrap_or_default();
    assert_eq!(order["resource_id"], json!(f.cid));
    assert_eq!(
        order["changes"]["changed"]["delegation_ids"]["from"],
        json!([])
    );
    assert_eq!(
        order["changes"]["changed"]["delegation_ids"]["to"],
        json!([d[2], d[0]])
    );
}
