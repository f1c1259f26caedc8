use serde_json::json;

use crate::helpers::{id, problem_fields, spawn_app};

#[actix_web::test]
async fn times_with_and_without_offset_are_the_same_instant() {
    let app = spawn_app().await;
    let o = app.organiser("sessions@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/sessions", id(&conf));
    let (s, a) = app
        .post(&base, t, &json!({"title": "Opening", "kind": "opening", "starts_at": "2025-09-17T09:00:00", "ends_at": "2025-09-17T10:00"}))
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["starts_at"], "2025-09-17T09:00:00+08:00");
    assert_eq!(a["ends_at"], "2025-09-17T10:00:00+08:00");
    let (s, b) = app
        .post(&base, t, &json!({"title": "Plenary", "starts_at": "2025-09-17T02:00:00Z", "ends_at": "2025-09-17T12:30:00+08:00"}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["starts_at"], "2025-09-17T10:00:00+08:00");
    assert_eq!(b["kind"], "plenary");
    // An offset without seconds, as a calendar or a person writes it.
    let (s, c) = app
        .post(&base, t, &json!({"title": "Panel", "kind": "panel", "starts_at": "2025-09-17T13:30+08:00", "ends_at": "2025-09-17T06:00Z"}))
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["starts_at"], "2025-09-17T13:30:00+08:00");
    assert_eq!(c["ends_at"], "2025-09-17T14:00:00+08:00");
    let (s, _) = app.delete(&format!("{base}/{}", id(&c)), t).await;
    assert_eq!(s, 204);
    let (_, list) = app.get(&base, None).await;
    let titles: Vec<&str> = list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, vec!["Opening", "Plenary"]);
    let (s, p) = app
        .patch(
            &format!("{base}/{}", id(&a)),
            t,
            &json!({"room": "Hall A", "ends_at": "2025-09-17T09:30:00"}),
        )
        .await;
    assert_eq!(
        (s, p["ends_at"].as_str(), p["room"].as_str()),
        (200, Some("2025-09-17T09:30:00+08:00"), Some("Hall A"))
    );
    assert_eq!(app.delete(&format!("{base}/{}", id(&b)), t).await.0, 204);
}

#[actix_web::test]
async fn outside_the_dates_or_backwards_is_422() {
    let app = spawn_app().await;
    let o = app.organiser("outside@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let base = format!("/api/v1/conferences/{}/sessions", id(&conf));
    // 2025-09-16T23:30 in Shanghai is the day before the conference.
    let (s, b) = app
        .post(&base, Some(&o.token), &json!({"title": "Early", "starts_at": "2025-09-16T15:30:00Z", "ends_at": "2025-09-17T10:00:00"}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(problem_fields(&b, 422), vec!["starts_at".to_string()]);
    let (s, b) = app
        .post(&base, Some(&o.token), &json!({"title": "Backwards", "starts_at": "2025-09-17T10:00:00", "ends_at": "2025-09-17T09:00:00"}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(problem_fields(&b, 422), vec!["ends_at".to_string()]);
    let (s, _) = app
        .post(&base, Some(&o.token), &json!({"title": "Late", "starts_at": "2025-09-18T23:00:00", "ends_at": "2025-09-19T01:00:00"}))
        .await;
    assert_eq!(s, 422);
    let (_, list) = app.get(&base, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn across_a_dst_change_offsets_follow_the_zone() {
    let app = spawn_app().await;
    let o = app.organiser("dst@example.org", false).await;
    let t = Some(o.token.as_str());
    let (s, conf) = app
        .post(
            "/api/v1/conferences",
            t,
            &json!({"title": "Autumn Meeting", "status": "published", "start_date": "2025-10-25", "end_date": "2025-10-27",
                    "time_zone": "Europe/Berlin", "venue": {"city": "Berlin", "country": "DE"}}),
        )
        .await;
    assert_eq!(s, 201);
    let base = format!("/api/v1/conferences/{}/sessions", id(&conf));
    let (s, before) = app
        .post(&base, t, &json!({"title": "Saturday", "starts_at": "2025-10-25T10:00:00", "ends_at": "2025-10-25T11:00:00"}))
        .await;
    assert_eq!(
        (s, before["starts_at"].as_str()),
        (201, Some("2025-10-25T10:00:00+02:00"))
    );
    let (s, after) = app
        .post(&base, t, &json!({"title": "Monday", "starts_at": "2025-10-27T10:00:00", "ends_at": "2025-10-27T11:00:00"}))
        .await;
    assert_eq!(
        (s, after["starts_at"].as_str()),
        (201, Some("2025-10-27T10:00:00+01:00"))
    );
    // Ambiguous local time (clocks go back at 03:00): the earlier instant.
    let (s, amb) = app
        .post(&base, t, &json!({"title": "Night", "starts_at": "2025-10-26T02:30:00", "ends_at": "2025-10-26T04:00:00"}))
        .await;
    assert_eq!(
        (s, amb["starts_at"].as_str()),
        (201, Some("2025-10-26T02:30:00+02:00"))
    );
    // A time inside the spring gap does not exist.
    let (s, spring) = app
        .post(
            "/api/v1/conferences",
            t,
            &json!({"title": "Spring", "status": "published", "start_date": "2025-03-30", "end_date": "2025-03-30",
                    "time_zone": "Europe/Berlin", "venue": {"city": "Berlin", "country": "DE"}}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .post(
            &format!("/api/v1/conferences/{}/sessions", id(&spring)),
            t,
            &json!({"title": "Gap", "starts_at": "2025-03-30T02:30:00", "ends_at": "2025-03-30T04:00:00"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(problem_fields(&b, 422), vec!["starts_at".to_string()]);
}

#[actix_web::test]
async fn delegation_ids_must_belong_to_the_conference() {
    let app = spawn_app().await;
    let o = app.organiser("links@example.org", false).await;
    let t = Some(o.token.as_str());
    let c1 = app.conference(&o, "published").await;
    let c2 = app.conference(&o, "published").await;
    let (_, mine) = app
        .post(
            &format!("/api/v1/conferences/{}/delegations", id(&c1)),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    let (_, theirs) = app
        .post(
            &format!("/api/v1/conferences/{}/delegations", id(&c2)),
            t,
            &json!({"country": "TH"}),
        )
        .await;
    let base = format!("/api/v1/conferences/{}/sessions", id(&c1));
    let (s, b) = app
        .post(&base, t, &json!({"title": "Bilateral", "kind": "bilateral", "starts_at": "2025-09-17T09:00:00", "ends_at": "2025-09-17T10:00:00", "delegation_ids": [mine["id"], theirs["id"]]}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(problem_fields(&b, 422), vec!["delegation_ids".to_string()]);
    let (s, ok) = app
        .post(&base, t, &json!({"title": "Bilateral", "kind": "bilateral", "starts_at": "2025-09-17T09:00:00", "ends_at": "2025-09-17T10:00:00", "delegation_ids": [mine["id"]]}))
        .await;
    assert_eq!(s, 201, "{ok}");
    assert_eq!(ok["delegation_ids"], json!([mine["id"]]));
}

#[actix_web::test]
async fn moving_conference_dates_away_from_sessions_is_422() {
    let app = spawn_app().await;
    let o = app.organiser("move@example.org", false).await;
    let conf = app.conference(&o, "published").await;
    let path = format!("/api/v1/conferences/{}", id(&conf));
    app.post(&format!("{path}/sessions"), Some(&o.token), &json!({"title": "Day two", "starts_at": "2025-09-18T09:00:00", "ends_at": "2025-09-18T10:00:00"}))
        .await;
    let (s, _) = app
        .patch(&path, Some(&o.token), &json!({"end_date": "2025-09-17"}))
        .await;
    assert_eq!(s, 422);
    let (_, still) = app.get(&path, None).await;
    assert_eq!(still["end_date"], "2025-09-18");
}
