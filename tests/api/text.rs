//! Text input (API.md, "Details that clients rely on"): NFC normalisation, the characters
//! one-line and multi-line fields refuse, look-alike organisation names; and what the
//! exports make of any stored text (no forged iCalendar components, no broken CSV rows),
//! the repeated hour of a DST change in `sessions.ics`, sub-microsecond session times.

use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::exports::download;
use crate::helpers::{problem_fields, spawn_app, Organiser, TestApp};
use crate::python::parse_with;

/// `"Café"` with a precomposed é (NFC) and with e + combining acute (NFD).
const CAFE_NFC: &str = "Caf\u{e9} International";
const CAFE_NFD: &str = "Cafe\u{301} International";

fn id(v: &Value) -> Uuid {
    Uuid::parse_str(v["id"].as_str().unwrap_or_default()).expect("a UUID id")
}

/// Runs one SQL statement with a UUID and a text parameter; returns the rows changed.
async fn sql(app: &TestApp, query: &str, id: Uuid, text: &str) -> usize {
    diesel::sql_query(query)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Text, _>(text)
        .execute(&mut app.conn().await)
        .await
        .expect("sql")
}

async fn organisation(app: &TestApp, owner: &Organiser, name: &str) -> (u16, Value) {
    app.post(
        "/api/v1/organisations",
        Some(&owner.token),
        &json!({"name": name, "kind": "other"}),
    )
    .await
}

#[actix_web::test]
async fn decomposed_text_is_the_same_text_as_composed_text() {
    let app = spawn_app().await;
    let owner = app.organiser("nfc@example.org", false).await;
    let conf = app.conference(&owner, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default();

    // NFD "Türkiye" is Türkiye.
    let (st, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"country": "Tu\u{308}rkiye"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    assert_eq!(d["country"], "TR");
    let (st, c) = app.get("/api/v1/countries/Tu%CC%88rkiye", None).await;
    assert_eq!((st, c["code"].as_str()), (200, Some("TR")), "{c}");

    // Stored in NFC, so the NFD spelling of the same name is a duplicate.
    let (st, org) = organisation(&app, &owner, CAFE_NFD).await;
    assert_eq!(st, 201, "{org}");
    assert_eq!(org["name"], CAFE_NFC, "stored in NFC");
    let (st, dup) = organisation(&app, &owner, CAFE_NFC).await;
    assert_eq!(st, 409, "{dup}");
    let (st, dup) = organisation(&app, &owner, CAFE_NFD).await;
    assert_eq!(st, 409, "{dup}");

    // ?q= in NFD finds the NFC name ("Cafe\u{301}" percent-encoded).
    let (st, list) = app.get("/api/v1/organisations?q=Cafe%CC%81", None).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["items"][0]["id"], org["id"]);
}

#[actix_web::test]
async fn one_line_fields_refuse_controls_separators_and_bidi_controls() {
    let app = spawn_app().await;
    let owner = app.organiser("lines@example.org", false).await;
    let conf = app.conference(&owner, "draft").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let (st, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"country": "KH"}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    let did = d["id"].as_str().unwrap_or_default().to_string();
    let bad = [
        "\n", "\r", "\t", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{9b}", "\u{2028}", "\u{2029}",
        "\u{202a}", "\u{202b}", "\u{202c}", "\u{202d}", "\u{202e}", "\u{2066}", "\u{2067}",
        "\u{2068}", "\u{2069}",
    ];
    for c in bad {
        let v = format!("Evil{c}Text");
        let cases: Vec<(String, Value, &str)> = vec![
            (
                "/api/v1/organisations".into(),
                json!({"name": v, "acronym": v, "kind": "other"}),
                "acronym name",
            ),
            (
                format!("/api/v1/conferences/{cid}/sessions"),
                json!({"title": v, "room": v, "chair": v,
                       "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00"}),
                "chair room title",
            ),
        ];
        for (path, body, fields) in cases {
            let (st, p) = app.post(&path, Some(&owner.token), &body).await;
            assert_eq!(st, 422, "{c:?} {path}: {p}");
            let mut got = problem_fields(&p, 422);
            got.sort();
            assert_eq!(got.join(" "), fields, "{c:?} {path}: {p}");
        }
        let (st, p) = app
            .post(
                "/api/v1/conferences",
                Some(&owner.token),
                &json!({"title": v, "theme": "ok", "start_date": "2025-09-17",
                        "end_date": "2025-09-18", "time_zone": "Asia/Shanghai",
                        "venue": {"name": v, "city": v, "region": v, "country": "CN"}}),
            )
            .await;
        assert_eq!(st, 422, "{c:?}: {p}");
        let mut got = problem_fields(&p, 422);
        got.sort();
        assert_eq!(
            got,
            ["title", "venue.city", "venue.name", "venue.region"],
            "{c:?}: {p}"
        );
        let (st, p) = app
            .patch(
                &format!("/api/v1/conferences/{cid}/delegations/{did}"),
                Some(&owner.token),
                &json!({"authority": v, "head": {"name": v, "title": v}}),
            )
            .await;
        assert_eq!(st, 422, "{c:?}: {p}");
        let mut got = problem_fields(&p, 422);
        got.sort();
        assert_eq!(got, ["authority", "head.name", "head.title"], "{c:?}: {p}");
        let (st, p) = app
            .post(
                &format!("/api/v1/conferences/{cid}/delegations/{did}/members"),
                Some(&owner.token),
                &json!({"full_name": v, "title": v, "position": v}),
            )
            .await;
        assert_eq!(st, 422, "{c:?}: {p}");
        let mut got = problem_fields(&p, 422);
        got.sort();
        assert_eq!(got, ["full_name", "position", "title"], "{c:?}: {p}");
    }
    // The multi-line `theme` keeps line feeds and refuses every other such character.
    let (st, ok) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            Some(&owner.token),
            &json!({"theme": "Line one\nLine two"}),
        )
        .await;
    assert_eq!(st, 200, "{ok}");
    assert_eq!(ok["theme"], "Line one\nLine two");
    for c in bad.iter().filter(|c| **c != "\n") {
        let (st, p) = app
            .patch(
                &format!("/api/v1/conferences/{cid}"),
                Some(&owner.token),
                &json!({"theme": format!("Line one{c}two")}),
            )
            .await;
        assert_eq!(st, 422, "{c:?}: {p}");
        assert_eq!(problem_fields(&p, 422), ["theme"], "{c:?}");
    }
    // Nothing was changed by the refused writes.
    let (_, now) = app
        .get(&format!("/api/v1/conferences/{cid}"), Some(&owner.token))
        .await;
    assert_eq!(now["theme"], "Line one\nLine two");
    let (_, orgs) = app.get("/api/v1/organisations", None).await;
    assert_eq!(orgs["items"].as_array().map(Vec::len), Some(0), "{orgs}");
}

/// A forged calendar tail: a stored line break would end the calendar and start events.
const FORGED: &str =
    "Evil\nEND:VCALENDAR\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:forged@evil\nSUMMARY:forged\nDTSTART:20250917T090000Z\nEND:VEVENT";

#[actix_web::test]
async fn stored_line_breaks_cannot_forge_calendar_components_or_csv_rows() {
    let app = spawn_app().await;
    let owner = app.organiser("forge@example.org", false).await;
    let conf = app.conference(&owner, "published").await;
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let mut sids = Vec::new();
    for (t, start) in [
        ("First", "2025-09-17T09:00"),
        ("Second", "2025-09-18T09:00"),
    ] {
        let (st, s) = app
            .post(
                &format!("/api/v1/conferences/{cid}/sessions"),
                Some(&owner.token),
                &json!({"title": t, "starts_at": start, "ends_at": start.replace("09:", "10:")}),
            )
            .await;
        assert_eq!(st, 201, "{s}");
        sids.push(id(&s));
    }
    // Rows stored before the one-line rule (or by any other means), written with SQL.
    let cuuid = id(&conf);
    let crlf = FORGED.replace('\n', "\r\n");
    let cr = FORGED.replace('\n', "\r");
    assert_eq!(
        sql(
            &app,
            "UPDATE conferences SET title = $2 WHERE id = $1",
            cuuid,
            FORGED
        )
        .await,
        1
    );
    let q = "UPDATE sessions SET title = $2, room = $2, chair = $2 WHERE id = $1";
    assert_eq!(sql(&app, q, sids[0], &crlf).await, 1);
    assert_eq!(sql(&app, q, sids[1], &cr).await, 1);

    let (st, _, bytes) = download(
        &app,
        &format!("/api/v1/conferences/{cid}/sessions.ics"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "CRLF only: {text:?}"
    );
    let content_lines = |prefix: &str| text.split("\r\n").filter(|l| l.starts_with(prefix)).count();
    assert_eq!(content_lines("BEGIN:VCALENDAR"), 1, "{text}");
    assert_eq!(content_lines("END:VCALENDAR"), 1, "{text}");
    assert_eq!(content_lines("BEGIN:VEVENT"), 2, "{text}");
    let parsed = parse_with("ics_dump.py", &bytes).await;
    let events = parsed["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 2, "exactly the two sessions: {parsed:#}");
    assert_eq!(parsed["name"], FORGED, "the title is one escaped value");
    assert_eq!(parsed["x_wr_calname"], FORGED);
    let mut uids: Vec<String> = events.iter().map(|e| e["uid"].to_string()).collect();
    uids.sort();
    let mut expected: Vec<String> = sids
        .iter()
        .map(|s| json!(format!("{s}@plenary")).to_string())
        .collect();
    expected.sort();
    assert_eq!(uids, expected);
    for e in &events {
        // CRLF and CR are read back as the line feed they stand for.
        assert_eq!(e["summary"], FORGED, "{e}");
        assert!(
            e["location"]
                .as_str()
                .is_some_and(|l| l.starts_with(FORGED)),
            "{e}"
        );
    }

    // The CSV: the same text in a delegation's authority and an organisation's name stays
    // inside one quoted field: a header and exactly one row per delegation.
    let (st, org) = organisation(&app, &owner, "Plain Org").await;
    assert_eq!(st, 201, "{org}");
    assert_eq!(
        sql(
            &app,
            "UPDATE organisations SET name = $2 WHERE id = $1",
            id(&org),
            &crlf
        )
        .await,
        1
    );
    for body in [
        json!({"organisation_id": org["id"]}),
        json!({"country": "KH"}),
    ] {
        let (st, d) = app
            .post(
                &format!("/api/v1/conferences/{cid}/delegations"),
                Some(&owner.token),
                &body,
            )
            .await;
        assert_eq!(st, 201, "{d}");
        let n = sql(
            &app,
            "UPDATE delegations SET authority = $2 WHERE id = $1",
            id(&d),
            &cr,
        )
        .await;
        assert_eq!(n, 1);
    }
    let (st, _, csv) = download(
        &app,
        &format!("/api/v1/conferences/{cid}/attendance.csv"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let rows = parse_with("csv_dump.py", &csv).await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 3, "header + 2 delegations: {rows:?}");
    let width = rows[0].as_array().map(Vec::len);
    assert!(
        rows.iter().all(|r| r.as_array().map(Vec::len) == width),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.as_array().is_some_and(|c| c.contains(&json!(crlf)))),
        "{rows:?}"
    );
}

#[actix_web::test]
async fn a_repeated_local_hour_is_written_in_utc() {
    let app = spawn_app().await;
    let owner = app.organiser("overlap@example.org", false).await;
    let (st, conf) = app
        .post(
            "/api/v1/conferences",
            Some(&owner.token),
            &json!({"title": "Pacific Dialogue", "status": "published", "start_date": "2025-11-01",
                    "end_date": "2025-11-03", "time_zone": "America/Los_Angeles",
                    "venue": {"city": "Los Angeles", "country": "US"}}),
        )
        .await;
    assert_eq!(st, 201, "{conf}");
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    // 01:30 PDT = 08:30Z, 01:30 PST = 09:30Z: the same local time, one hour apart.
    let mut expected = std::collections::HashMap::new();
    for (t, start, end, utc) in [
        (
            "PDT",
            "2025-11-02T01:30:00-07:00",
            "2025-11-02T01:45:00-07:00",
            ("2025-11-02T08:30:00+00:00", "2025-11-02T08:45:00+00:00"),
        ),
        (
            "PST",
            "2025-11-02T01:30:00-08:00",
            "2025-11-02T02:15:00-08:00",
            ("2025-11-02T09:30:00+00:00", "2025-11-02T10:15:00+00:00"),
        ),
        (
            "Across",
            "2025-11-02T01:40:00-07:00",
            "2025-11-02T01:20:00-08:00",
            ("2025-11-02T08:40:00+00:00", "2025-11-02T09:20:00+00:00"),
        ),
    ] {
        let (st, s) = app
            .post(
                &format!("/api/v1/conferences/{cid}/sessions"),
                Some(&owner.token),
                &json!({"title": t, "starts_at": start, "ends_at": end}),
            )
            .await;
        assert_eq!(st, 201, "{s}");
        assert_eq!(
            (s["starts_at"].as_str(), s["ends_at"].as_str()),
            (Some(start), Some(end))
        );
        expected.insert(t.to_string(), utc);
    }
    let (st, _, bytes) = download(
        &app,
        &format!("/api/v1/conferences/{cid}/sessions.ics"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Either occurrence of a repeated local time is written in UTC: RFC 5545 reads a TZID
    // time in the overlap as the first occurrence, ical.js as the second.
    assert!(!text.contains(":20251102T013000\r\n"), "{text}");
    assert!(text.contains("DTSTART:20251102T083000Z\r\n"), "{text}");
    assert!(text.contains("DTSTART:20251102T093000Z\r\n"), "{text}");
    assert!(text.contains("DTSTART:20251102T084000Z\r\n"), "{text}");
    assert!(
        text.contains("DTEND;TZID=America/Los_Angeles:20251102T021500\r\n"),
        "{text}"
    );
    assert!(text.contains("DTEND:20251102T092000Z\r\n"), "{text}");
    let parsed = parse_with("ics_dump.py", &bytes).await;
    let events = parsed["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 3, "{parsed:#}");
    for e in &events {
        let (start, end) = expected[e["summary"].as_str().unwrap_or_default()];
        assert_eq!(e["start"]["utc"], start, "{e}");
        assert_eq!(e["end"]["utc"], end, "{e}");
    }
}

#[actix_web::test]
async fn times_finer_than_a_microsecond_are_checked_as_stored() {
    let app = spawn_app().await;
    let owner = app.organiser("micro@example.org", false).await;
    let (st, conf) = app
        .post(
            "/api/v1/conferences",
            Some(&owner.token),
            &json!({"title": "Precise", "start_date": "2026-06-01", "end_date": "2026-06-02",
                    "time_zone": "UTC", "venue": {"city": "Geneva", "country": "CH"}}),
        )
        .await;
    assert_eq!(st, 201, "{conf}");
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/api/v1/conferences/{cid}/sessions");
    let (st, p) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"title": "Blink", "starts_at": "2026-06-01T09:00:00.1234561Z",
                    "ends_at": "2026-06-01T09:00:00.1234562Z"}),
        )
        .await;
    assert_eq!(st, 422, "{p}");
    assert_eq!(problem_fields(&p, 422), ["ends_at"]);
    let (st, ok) = app
        .post(
            &path,
            Some(&owner.token),
            &json!({"title": "Short", "starts_at": "2026-06-01T09:00:00.1234561Z",
                    "ends_at": "2026-06-01T09:00:00.1234571Z"}),
        )
        .await;
    assert_eq!(st, 201, "{ok}");
    let (_, list) = app.get(&path, Some(&owner.token)).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
}

#[actix_web::test]
async fn look_alike_organisation_names_are_one_name() {
    let app = spawn_app().await;
    let owner = app.organiser("skeleton@example.org", false).await;
    let (st, zebra) = organisation(&app, &owner, "Zebra Secret Org").await;
    assert_eq!(st, 201, "{zebra}");
    for look_alike in [
        "Zebr\u{430} Secret Org",   // Cyrillic а
        "Zeb\u{200B}ra Secret Org", // zero-width space
        "\u{FEFF}Zebra Secret\u{2060} Org",
        "ZEBRA  SECRET ORG",
    ] {
        let (st, p) = organisation(&app, &owner, look_alike).await;
        assert_eq!(st, 409, "{look_alike:?}: {p}");
        assert_eq!(p["detail"], "an organisation with that name already exists");
    }
    // Zero-width characters are removed from the name that is stored.
    let (st, other) = organisation(&app, &owner, "Other\u{200B}\u{200D} Org").await;
    assert_eq!(st, 201, "{other}");
    assert_eq!(other["name"], "Other Org");
    // A rename to a look-alike is refused too.
    let (st, p) = app
        .patch(
            &format!("/api/v1/organisations/{}", id(&other)),
            Some(&owner.token),
            &json!({"name": "Zebr\u{430} Secret Org"}),
        )
        .await;
    assert_eq!(st, 409, "{p}");
    assert_eq!(p["detail"], "an organisation with that name already exists");

    // A row stored before the rule (no skeleton) gets one at start, and is then guarded.
    let old = Uuid::now_v7();
    assert_eq!(
        sql(
            &app,
            "INSERT INTO organisations (id, name, kind, created_at, updated_at) \
             VALUES ($1, $2, 'other', now(), now())",
            old,
            "Old Heron Society",
        )
        .await,
        1
    );
    let (st, p) = organisation(&app, &owner, "Old Her\u{43e}n Society").await; // Cyrillic о
    assert_eq!(
        st, 201,
        "before the start-up sync the old row has no skeleton: {p}"
    );
    let (st, _) = app
        .delete(
            &format!("/api/v1/organisations/{}", id(&p)),
            Some(&owner.token),
        )
        .await;
    assert_eq!(st, 204);
    plenary::store::reference::migrate(&app.db_url)
        .await
        .expect("migrate and sync");
    let (st, p) = organisation(&app, &owner, "Old Her\u{43e}n Society").await;
    assert_eq!(st, 409, "{p}");
}
