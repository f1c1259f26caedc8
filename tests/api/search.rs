//! `GET /conferences?q=`: PostgreSQL full-text search, ranked, keyset-paginated, on a GIN index.

use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::{explain, problem_fields, spawn_app, LIANYUNGANG};

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["title"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn search_is_stemmed_ranked_and_pages_without_repeats() {
    let app = spawn_app().await;
    app.import_data().await;
    let o = app.organiser("search@example.org", false).await;
    for (title, theme, city, status, date) in [
        (
            "Border Management Dialogue",
            Some("Migration data and borders"),
            "Bangkok",
            "published",
            "2025-03-01",
        ),
        (
            "Migration Governance Forum",
            Some("Labour migration"),
            "Manila",
            "published",
            "2024-03-01",
        ),
        ("Climate Summit", None, "Geneva", "published", "2025-05-01"),
        (
            "Secret Migration Retreat",
            None,
            "Hanoi",
            "draft",
            "2025-06-01",
        ),
        (
            "Workshop",
            Some("Statistics"),
            "Migrationsstadt",
            "published",
            "2023-01-01",
        ),
    ] {
        let (s, b) = app
            .post(
                "/api/v1/conferences",
                Some(&o.token),
                &json!({"title": title, "theme": theme, "status": status, "start_date": date,
                        "end_date": date, "time_zone": "UTC", "venue": {"city": city, "country": "FR"}}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    // Stemming: "migrations" finds "Migration"; title matches outrank theme matches.
    let (s, page) = app.get("/api/v1/conferences?q=migrations", None).await;
    assert_eq!(s, 200, "{page}");
    let found = titles(&page);
    // Lianyungang 2025 and Beijing 2023 from data/, and the two published ones above.
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        found[3], "Border Management Dialogue",
        "theme-only match ranks last: {found:?}"
    );
    assert!(found.contains(&"Conference on Regional Migration Governance Policies".to_string()));
    assert!(
        !found.contains(&"Secret Migration Retreat".to_string()),
        "drafts stay hidden"
    );
    let (_, mine) = app
        .get("/api/v1/conferences?q=migration", Some(&o.token))
        .await;
    assert!(titles(&mine).contains(&"Secret Migration Retreat".to_string()));
    // Venue words are searched too; phrases and negation work (websearch syntax).
    assert_eq!(
        titles(&app.get("/api/v1/conferences?q=lianyungang", None).await.1).len(),
        1
    );
    assert_eq!(
        titles(&app.get("/api/v1/conferences?q=jiangsu", None).await.1).len(),
        1
    );
    assert_eq!(
        titles(
            &app.get("/api/v1/conferences?q=migration%20-governance", None)
                .await
                .1
        ),
        vec!["Border Management Dialogue"]
    );
    assert_eq!(
        titles(
            &app.get("/api/v1/conferences?q=%22governance%20forum%22", None)
                .await
                .1
        ),
        vec!["Migration Governance Forum"]
    );
    assert_eq!(
        titles(&app.get("/api/v1/conferences?q=the", None).await.1).len(),
        0
    );

    // Ranked pages: one per page gives the same rows in the same order, each once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/conferences?q=migration&limit=1".to_string();
    let mut inserted = false;
    loop {
        let (s, p) = app.get(&path, None).await;
        assert_eq!(s, 200, "{p}");
        seen.extend(titles(&p));
        if !inserted {
            let (s, _) = app
                .post(
                    "/api/v1/conferences",
                    Some(&o.token),
                    &json!({"title": "Late Migration Migration Migration Meeting", "status": "published",
                            "start_date": "2025-01-01", "end_date": "2025-01-01", "time_zone": "UTC",
                            "venue": {"city": "Paris", "country": "FR"}}),
                )
                .await;
            assert_eq!(s, 201);
            inserted = true;
        }
        match p["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/conferences?q=migration&limit=1&cursor={c}"),
            None => break,
        }
    }
    for t in &found {
        assert_eq!(
            seen.iter().filter(|s| *s == t).count(),
            1,
            "{t} in {seen:?}"
        );
    }
    // Cursors of the date-ordered list are not cursors of the ranked one.
    let (_, dated) = app.get("/api/v1/conferences?limit=1", None).await;
    let c = dated["next_cursor"].as_str().unwrap_or_default();
    let (s, body) = app
        .get(&format!("/api/v1/conferences?q=migration&cursor={c}"), None)
        .await;
    assert_eq!(problem_fields(&body, 422), vec!["cursor"], "{s}");
}

#[actix_web::test]
async fn the_search_predicate_is_served_by_the_gin_index() {
    let app = spawn_app().await;
    app.import_data().await;
    let mut conn = app.conn().await;
    // 5000 conferences, one of which mentions "lianyungang".
    diesel::sql_query(
        "INSERT INTO conferences (id, title, theme, status, start_date, end_date, time_zone,
                                  venue_city, venue_country, host_country)
         SELECT gen_random_uuid(), 'Meeting number ' || i, 'Theme ' || (i % 97), 'published',
                DATE '2020-01-01' + (i % 2000), DATE '2020-01-01' + (i % 2000), 'UTC',
                'City ' || (i % 50), 'FR', 'FR'
           FROM generate_series(1, 5000) AS i",
    )
    .execute(&mut conn)
    .await
    .expect("fill");
    diesel::sql_query("ANALYZE conferences")
        .execute(&mut conn)
        .await
        .expect("analyze");
    // On a table this small a sequential scan is cheaper; forbid it to show that the predicate
    // is one the index serves (the expression matches the indexed generated column).
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .expect("set");
    // The WHERE clause exactly as store::search builds it (matches + visibility).
    let plan = explain(
        &mut conn,
        "SELECT id FROM conferences WHERE status <> 'draft' AND \
         conferences.search @@ websearch_to_tsquery('english', 'lianyungang') \
         ORDER BY ts_rank(conferences.search, websearch_to_tsquery('english', 'lianyungang')) DESC, \
         start_date DESC, id DESC LIMIT 51",
    )
    .await;
    assert!(
        plan.contains(plenary::store::search::SEARCH_INDEX),
        "plan without the GIN index:\n{plan}"
    );
    // And the API answers from that table.
    let (s, page) = app.get("/api/v1/conferences?q=lianyungang", None).await;
    assert_eq!(s, 200);
    assert_eq!(page["items"][0]["id"], LIANYUNGANG);
    let (_, many) = app
        .get("/api/v1/conferences?q=meeting&limit=200", None)
        .await;
    assert_eq!(many["items"].as_array().map(Vec::len), Some(200));
    assert!(many["next_cursor"].is_string());
}
