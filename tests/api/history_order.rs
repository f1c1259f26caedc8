//! Histories and `?participant=` lists are ordered on the delegations' copy of the
//! conference's start date (migration 2026-11-30-000001_delegation_history_order): newest
//! first, paged without repeats, and following a conference whose dates move.

use serde_json::{json, Value};

use crate::helpers::{explain, spawn_app, Organiser, TestApp};

async fn conference_on(app: &TestApp, owner: &Organiser, title: &str, start: &str) -> String {
    let (s, body) = app
        .post(
            "/api/v1/conferences",
            Some(&owner.token),
            &json!({"title": title, "status": "published", "start_date": start,
                    "end_date": start, "time_zone": "UTC",
                    "venue": {"city": "Phnom Penh", "country": "KH"}}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let (s, body) = app
        .post(
            &format!("/api/v1/conferences/{id}/delegations"),
            Some(&owner.token),
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    id
}

/// Every page of a list, following `next_cursor`; the titles in order.
async fn titles(app: &TestApp, path: &str, conference: impl Fn(&Value) -> &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            None => format!("{path}{sep}limit=2"),
        };
        let (s, body) = app.get(&url, None).await;
        assert_eq!(s, 200, "{body}");
        for item in body["items"].as_array().cloned().unwrap_or_default() {
            out.push(
                conference(&item)["title"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[actix_web::test]
async fn participant_lists_and_histories_follow_start_dates() {
    let app = spawn_app().await;
    let o = app.organiser("history@example.org", false).await;
    conference_on(&app, &o, "Second", "2021-05-01").await;
    let moving = conference_on(&app, &o, "Moving", "2019-01-01").await;
    conference_on(&app, &o, "Newest", "2023-03-01").await;
    conference_on(&app, &o, "Same day A", "2020-06-01").await;
    conference_on(&app, &o, "Same day B", "2020-06-01").await;

    let history = titles(&app, "/api/v1/countries/KH/attendance", |i| {
        &i["conference"]
    })
    .await;
    let list = titles(&app, "/api/v1/conferences?participant=KH", |i| i).await;
    assert_eq!(history[..2], ["Newest", "Second"]);
    assert_eq!(history.len(), 5);
    assert_eq!(history[4], "Moving");
    assert_eq!(list, history, "both lists use the same order");

    // Moving the conference to the newest date moves it to the top of both lists.
    let (s, body) = app
        .patch(
            &format!("/api/v1/conferences/{moving}"),
            Some(&o.token),
            &json!({"start_date": "2024-01-01", "end_date": "2024-01-02"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let history = titles(&app, "/api/v1/countries/KH/attendance", |i| {
        &i["conference"]
    })
    .await;
    let list = titles(&app, "/api/v1/conferences?participant=KH", |i| i).await;
    assert_eq!(history[0], "Moving");
    assert_eq!(history.len(), 5);
    assert_eq!(list, history);

    // Date bounds use the same dates.
    let bounded = titles(
        &app,
        "/api/v1/countries/KH/attendance?from=2020-01-01&to=2021-12-31",
        |i| &i["conference"],
    )
    .await;
    assert_eq!(bounded.len(), 3, "{bounded:?}");
    assert_eq!(bounded[0], "Second");
}

/// A history page reads only the history index (migration
/// 2026-11-30-000002_history_index_covering): role and status are stored in its leaves, so
/// the delegations' heap is not visited, one page per row, as it was before.
#[actix_web::test]
async fn a_country_history_page_is_an_index_only_scan() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    for sql in [
        "INSERT INTO conferences (id, title, status, start_date, end_date, time_zone,
                                  venue_city, venue_country, host_country)
         SELECT gen_random_uuid(), 'Meeting ' || i, 'published', DATE '2000-01-01' + i,
                DATE '2000-01-01' + i, 'UTC', 'Phnom Penh', 'KH', 'KH'
           FROM generate_series(1, 3000) AS i",
        "INSERT INTO delegations (id, conference_id, country, role, status)
         SELECT gen_random_uuid(), c.id, k.code, 'member', 'attended'
           FROM conferences c CROSS JOIN (VALUES ('KH'), ('TH'), ('VN'), ('LA')) AS k(code)",
        "VACUUM ANALYZE delegations",
        "VACUUM ANALYZE conferences",
    ] {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .expect("fill");
    }
    // The delegation columns store::attendance::history reads, in its order.
    let plan = explain(
        &mut conn,
        "SELECT c.id, d.role, d.status FROM delegations d
           JOIN conferences c ON d.conference_id = c.id
          WHERE d.country = 'KH' AND c.status <> 'draft'
          ORDER BY d.conference_start_date DESC, d.conference_id DESC LIMIT 51",
    )
    .await;
    assert!(
        plan.contains("Index Only Scan using delegations_country_history_idx"),
        "plan without an index-only scan of the history index:\n{plan}"
    );
}
