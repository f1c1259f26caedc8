//! `attendance.csv` and `sessions.ics`, parsed back by independent parsers (Python's `csv` and
//! the `icalendar` package) and compared value by value with the JSON API.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, LIANYUNGANG};
use crate::presence::fixture;
use crate::python::parse_with;

/// GET a file: status, content type, body.
pub async fn download(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let r = app.request(reqwest::Method::GET, path, token, None).await;
    let status = r.status().as_u16();
    let ct = r.header_text("content-type");
    (status, ct, r.bytes().await.expect("body").to_vec())
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every record ends in CRLF (RFC 4180 §2.1); the body is UTF-8 without a BOM.
fn assert_rfc4180_lines(bytes: &[u8]) {
    assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with("\r\n"));
    assert!(!text.replace("\r\n", "").contains('\r'));
}

/// Checks `attendance.csv` of `cid` against the JSON API; returns the parsed rows.
async fn check_attendance_csv(app: &TestApp, cid: &str, token: Option<&str>) -> Vec<Vec<String>> {
    let (st, ct, bytes) = download(
        app,
        &format!("/api/v1/conferences/{cid}/attendance.csv"),
        token,
    )
    .await;
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_rfc4180_lines(&bytes);
    let rows: Vec<Vec<String>> =
        serde_json::from_value(parse_with("csv_dump.py", &bytes).await).expect("rows");
    let header = &rows[0];
    assert_eq!(
        header,
        &[
            "protocol_position",
            "party",
            "country",
            "organisation_id",
            "name",
            "acronym",
            "authority",
            "role",
            "status",
            "counts",
            "size",
            "head_name",
            "head_title",
            "sessions_attended"
        ]
        .map(String::from)
    );
    // The JSON side: every delegation in protocol order, names, and the presence matrix.
    let (_, list) = app
        .get(
            &format!("/api/v1/conferences/{cid}/delegations?order=protocol&limit=200"),
            token,
        )
        .await;
    let delegations = list["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        rows.len(),
        delegations.len() + 1,
        "one row per delegation, every status"
    );
    let (_, matrix) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?by=session&order=protocol"),
            token,
        )
        .await;
    let (_, attendance) = app
        .get(
            &format!("/api/v1/conferences/{cid}/attendance?order=protocol"),
            token,
        )
        .await;
    // (name, acronym) of every party that counts, from the attendance JSON.
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    for c in attendance["countries"].as_array().into_iter().flatten() {
        names.insert(s(&c["country"]), (s(&c["name"]), String::new()));
    }
    for o in attendance["organisations"].as_array().into_iter().flatten() {
        names.insert(s(&o["organisation_id"]), (s(&o["name"]), s(&o["acronym"])));
    }
    for (i, (row, d)) in rows[1..].iter().zip(&delegations).enumerate() {
        let cell: HashMap<&str, &str> = header
            .iter()
            .map(String::as_str)
            .zip(row.iter().map(String::as_str))
            .collect();
        assert_eq!(cell["protocol_position"], (i + 1).to_string());
        assert_eq!(cell["country"], s(&d["country"]));
        assert_eq!(cell["organisation_id"], s(&d["organisation_id"]));
        assert_eq!(
            cell["party"],
            if d["country"].is_string() {
                "state"
            } else {
                "organisation"
            }
        );
        assert_eq!(cell["role"], s(&d["role"]));
        assert_eq!(cell["status"], s(&d["status"]));
        assert_eq!(cell["size"], s(&d["size"]));
        assert_eq!(cell["head_name"], s(&d["head"]["name"]));
        assert_eq!(cell["head_title"], s(&d["head"]["title"]));
        let counts = ["registered", "confirmed", "attended"].contains(&cell["status"]);
        assert_eq!(cell["counts"], counts.to_string());
        // Authority as stored, made inert if it would be a formula.
        let authority = s(&d["authority"]);
        let inert = |v: &str| {
            if v.starts_with(['=', '+', '-', '@']) {
                format!("'{v}")
            } else {
                v.to_string()
            }
        };
        assert_eq!(cell["authority"], inert(&authority));
        if counts {
            let key = if d["country"].is_string() {
                s(&d["country"])
            } else {
                s(&d["organisation_id"])
            };
            assert_eq!(cell["name"], inert(&names[&key].0), "name of {key}");
            assert_eq!(cell["acronym"], inert(&names[&key].1), "acronym of {key}");
        }
        let m = &matrix["delegations"][i];
        assert_eq!(s(&m["delegation_id"]), s(&d["id"]), "matrix row {i}");
        assert_eq!(cell["name"], inert(&s(&m["name"])));
        assert_eq!(cell["sessions_attended"], s(&m["sessions_attended"]));
    }
    rows
}

#[actix_web::test]
async fn lianyungang_attendance_csv_parses_back_to_the_json_api() {
    let app = spawn_app().await;
    app.import_data().await;
    let rows = check_attendance_csv(&app, LIANYUNGANG, None).await;
    assert_eq!(rows.len(), 16);
    assert_eq!(
        rows[1][..5],
        ["1", "state", "CN", "", "China"].map(String::from)
    );
    assert_eq!(
        rows[1][6..10],
        [
            "National Immigration Administration",
            "host",
            "attended",
            "true"
        ]
        .map(String::from)
    );
    assert_eq!(rows[13][4], "Viet Nam");
    assert_eq!(rows[14][4], "International Organization for Migration");
    assert_eq!(rows[14][5], "IOM");
    eprintln!("attendance.csv as parsed by Python:");
    for r in &rows {
        eprintln!("  {r:?}");
    }
}

#[actix_web::test]
async fn attendance_csv_keeps_unicode_and_makes_formulas_inert() {
    let app = spawn_app().await;
    let owner = app.organiser("csv@example.org", false).await;
    let f = fixture(
        &app,
        &owner.token,
        "=HYPERLINK(\"http://evil.example\",\"x\")",
    )
    .await;
    let cid = &f.cid;
    for (name, kind) in [
        ("@SUM(1+1)", "other"),
        ("+cmd|' /C calc'!A0", "other"),
        (
            "Organisation internationale de la Francophonie — Ελληνικά, 中文 \"quoted\"",
            "intergovernmental",
        ),
    ] {
        let (st, org) = app
            .post(
                "/api/v1/organisations",
                Some(&owner.token),
                &json!({"name": name, "kind": kind}),
            )
            .await;
        assert_eq!(st, 201, "{org}");
        let (st, d) = app
            .post(
                &format!("/api/v1/conferences/{cid}/delegations"),
                Some(&owner.token),
                &json!({"organisation_id": org["id"], "status": "confirmed"}),
            )
            .await;
        assert_eq!(st, 201, "{d}");
    }
    let (st, d) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"country": "Türkiye", "authority": "-Göç İdaresi, Ankara",
                    "head": {"name": "Ayşe Yılmaz", "title": "Genel Müdür"}, "size": 4}),
        )
        .await;
    assert_eq!(st, 201, "{d}");
    // An authority is one line (API.md): a line break can only be in a row stored before that
    // rule, put there with SQL; the CSV must still carry it inside one quoted field.
    {
        use diesel_async::RunQueryDsl;
        let n = diesel::sql_query(
            "UPDATE delegations SET authority = authority || E'\\nline two' WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(
            uuid::Uuid::parse_str(d["id"].as_str().unwrap_or_default()).expect("id"),
        )
        .execute(&mut app.conn().await)
        .await
        .expect("update");
        assert_eq!(n, 1);
    }
    let (st, _) = app
        .put(
            &format!(
                "/api/v1/conferences/{cid}/sessions/{}/attendance",
                f.sessions[2]
            ),
            Some(&owner.token),
            &json!({"delegation_ids": [d["id"], f.delegations[0]]}),
        )
        .await;
    assert_eq!(st, 200);
    let rows = check_attendance_csv(&app, cid, None).await;
    let by_name: HashMap<&str, &Vec<String>> = rows.iter().map(|r| (r[4].as_str(), r)).collect();
    assert!(
        by_name.contains_key("'=HYPERLINK(\"http://evil.example\",\"x\")"),
        "{rows:?}"
    );
    assert!(by_name.contains_key("'@SUM(1+1)"));
    assert!(by_name.contains_key("'+cmd|' /C calc'!A0"));
    assert!(by_name.contains_key(
        "Organisation internationale de la Francophonie — Ελληνικά, 中文 \"quoted\""
    ));
    let tr = by_name["Türkiye"];
    assert_eq!(tr[6], "'-Göç İdaresi, Ankara\nline two");
    assert_eq!(
        tr[11..],
        ["Ayşe Yılmaz", "Genel Müdür", "1"].map(String::from)
    );
    // order=name sorts rows by name but keeps each row's protocol position.
    let (_, _, bytes) = download(
        &app,
        &format!("/api/v1/conferences/{cid}/attendance.csv?order=name"),
        None,
    )
    .await;
    let named: Vec<Vec<String>> =
        serde_json::from_value(parse_with("csv_dump.py", &bytes).await).expect("rows");
    let position = |name: &str| named.iter().position(|r| r[4] == name);
    assert!(position("Cambodia") < position("China"), "{named:?}");
    assert!(position("China") < position("Thailand"), "{named:?}");
    assert_eq!(
        named
            .iter()
            .find(|r| r[4] == "Cambodia")
            .map(|r| r[0].as_str()),
        Some("2")
    );
    let mut a: Vec<_> = named[1..].to_vec();
    let mut b: Vec<_> = rows[1..].to_vec();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same rows in another order");
}

#[actix_web::test]
async fn exports_of_a_draft_do_not_exist_for_others() {
    let app = spawn_app().await;
    let owner = app.organiser("draft-export@example.org", false).await;
    let conf = app.conference(&owner, "draft").await;
    let cid = conf["id"].as_str().unwrap_or_default();
    for file in ["attendance.csv", "sessions.ics", "participants.csv"] {
        let path = format!("/api/v1/conferences/{cid}/{file}");
        let (st, ct, _) = download(&app, &path, None).await;
        assert_eq!(
            (st, ct.as_str()),
            (404, "application/problem+json"),
            "{file}"
        );
        assert_eq!(
            download(&app, &path, Some(&owner.token)).await.0,
            200,
            "{file}"
        );
    }
    let (st, ct, _) = download(&app, "/api/v1/conferences/not-a-uuid/attendance.csv", None).await;
    assert_eq!((st, ct.as_str()), (404, "application/problem+json"));
}

/// Checks the folding and line ends of an iCalendar document (RFC 5545 §3.1).
fn assert_rfc5545_lines(bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "CRLF only"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

/// Checks `sessions.ics` of `cid` against the JSON API; returns what Python understood.
async fn check_ics(app: &TestApp, cid: &str, token: Option<&str>) -> (Value, String) {
    let (st, ct, bytes) = download(
        app,
        &format!("/api/v1/conferences/{cid}/sessions.ics"),
        token,
    )
    .await;
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "text/calendar; charset=utf-8");
    assert_rfc5545_lines(&bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let parsed = parse_with("ics_dump.py", &bytes).await;
    let (_, conf) = app.get(&format!("/api/v1/conferences/{cid}"), token).await;
    let (_, sessions) = app
        .get(
            &format!("/api/v1/conferences/{cid}/sessions?limit=200"),
            token,
        )
        .await;
    let zone = s(&conf["time_zone"]);
    assert_eq!(parsed["version"], "2.0");
    assert_eq!(parsed["prodid"], "-//Plenary//Plenary API//EN");
    assert_eq!(parsed["calscale"], "GREGORIAN");
    assert_eq!(parsed["name"], conf["title"]);
    assert_eq!(parsed["x_wr_calname"], conf["title"]);
    assert_eq!(parsed["x_wr_timezone"], json!(zone));
    assert_eq!(parsed["timezones"].as_array().map(Vec::len), Some(1));
    assert_eq!(parsed["timezones"][0]["tzid"], json!(zone));
    let events = parsed["events"].as_array().cloned().unwrap_or_default();
    let sessions = sessions["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), sessions.len());
    for (e, s_) in events.iter().zip(&sessions) {
        assert_eq!(e["uid"], json!(format!("{}@plenary", s(&s_["id"]))));
        assert_eq!(e["summary"], s_["title"]);
        for (ical, api) in [("start", "starts_at"), ("end", "ends_at")] {
            assert_eq!(e[ical]["tzid"], json!(zone), "TZID= on DTSTART/DTEND");
            assert_eq!(
                e[ical]["iso"], s_[api],
                "{ical} as the system zone database reads it"
            );
            let offset = chrono::DateTime::parse_from_rfc3339(&s(&s_[api]))
                .map(|t| i64::from(t.offset().local_minus_utc()))
                .expect("rfc3339");
            assert_eq!(
                e[ical]["own_offset"],
                json!(offset),
                "{ical} as the VTIMEZONE reads it"
            );
        }
        let utc = |field: &str| {
            chrono::DateTime::parse_from_rfc3339(&s(&s_[field]))
                .map(|t| {
                    t.with_timezone(&chrono::Utc)
                        .format("%Y-%m-%dT%H:%M:%S+00:00")
                        .to_string()
                })
                .expect(field)
        };
        assert_eq!(
            e["dtstamp"],
            json!(utc("updated_at")),
            "DTSTAMP is the last change"
        );
        assert_eq!(e["last_modified"], json!(utc("updated_at")));
        assert_eq!(e["created"], json!(utc("created_at")));
        assert_eq!(e["categories"], json!([s(&s_["kind"]).to_uppercase()]));
        let expected_status = if conf["status"] == "cancelled" {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        assert_eq!(e["status"], expected_status);
        assert!(s(&e["location"]).contains(&s(&conf["venue"]["city"])));
        if let Some(room) = s_["room"].as_str() {
            assert!(s(&e["location"]).starts_with(room));
        }
        if let Some(chair) = s_["chair"].as_str() {
            assert!(s(&e["description"]).contains(&format!("Chair: {chair}")));
        }
    }
    (parsed, text)
}

#[actix_web::test]
async fn sessions_ics_parses_back_to_the_json_api_across_a_dst_change() {
    let app = spawn_app().await;
    let owner = app.organiser("ics@example.org", false).await;
    let title = "Berlin Process Ministerial on Migration — Übergänge, Ελληνικά, 中文; \"Leitlinien\", a long title to fold";
    let (st, conf) = app
        .post(
            "/api/v1/conferences",
            Some(&owner.token),
            &json!({"title": title, "status": "published", "start_date": "2025-10-25",
                    "end_date": "2025-10-27", "time_zone": "Europe/Berlin",
                    "venue": {"name": "Weltsaal", "city": "Berlin", "country": "DE"}}),
        )
        .await;
    assert_eq!(st, 201, "{conf}");
    let cid = conf["id"].as_str().unwrap_or_default().to_string();
    for (t, start, end, room, chair) in [
        (
            "Opening, before the change",
            "2025-10-25T09:00",
            "2025-10-25T10:30",
            Some("Saal 1; Erdgeschoss"),
            Some("Jürgen Müller"),
        ),
        (
            "Night session across the change",
            "2025-10-26T01:30",
            "2025-10-26T03:30",
            None,
            None,
        ),
        (
            "Closing, after the change: Überblick",
            "2025-10-27T16:00",
            "2025-10-27T17:00",
            Some("Saal 2"),
            Some("Zoë O'Brien, Chair\\Rapporteur"),
        ),
    ] {
        let (st, b) = app
            .post(
                &format!("/api/v1/conferences/{cid}/sessions"),
                Some(&owner.token),
                &json!({"title": t, "starts_at": start, "ends_at": end, "room": room, "chair": chair}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    let (parsed, text) = check_ics(&app, &cid, None).await;
    assert!(
        text.contains("DTSTART;TZID=Europe/Berlin:20251026T013000\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\n "), "long lines are folded");
    let obs = &parsed["timezones"][0]["observances"];
    let kinds: Vec<(String, String, i64, i64)> = obs
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    (
                        s(&o["kind"]),
                        s(&o["dtstart"]),
                        o["from"].as_i64().unwrap_or(0),
                        o["to"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        kinds,
        vec![
            (
                "STANDARD".to_string(),
                "2025-01-01T01:00:00".to_string(),
                3600,
                3600
            ),
            (
                "DAYLIGHT".to_string(),
                "2025-03-30T02:00:00".to_string(),
                3600,
                7200
            ),
            (
                "STANDARD".to_string(),
                "2025-10-26T03:00:00".to_string(),
                7200,
                3600
            ),
        ]
    );
    // The night session starts in summer time and ends in winter time.
    assert_eq!(parsed["events"][1]["start"]["own_offset"], 7200);
    assert_eq!(parsed["events"][1]["end"]["own_offset"], 3600);
    assert_eq!(
        parsed["events"][1]["start"]["utc"],
        "2025-10-25T23:30:00+00:00"
    );
    assert_eq!(
        parsed["events"][2]["description"],
        "Kind: plenary\nChair: Zoë O'Brien, Chair\\Rapporteur"
    );
    assert_eq!(
        parsed["events"][0]["location"],
        "Saal 1; Erdgeschoss, Weltsaal, Berlin, Germany"
    );

    // Stable: the same sessions give the same document (and ETag, so polling clients get 304);
    // a cancelled conference cancels them.
    let (_, again) = check_ics(&app, &cid, None).await;
    assert_eq!(again, text);
    let path = format!("{}/api/v1/conferences/{cid}/sessions.ics", app.address);
    let r = app.client.get(&path).send().await.expect("get");
    let etag = r.header_text("etag");
    assert!(etag.starts_with('"'), "{etag}");
    let r = app
        .client
        .get(&path)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 304);
    let (st, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            Some(&owner.token),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(st, 200);
    let (cancelled, _) = check_ics(&app, &cid, None).await;
    assert_eq!(cancelled["events"][0]["status"], "CANCELLED");
}

#[actix_web::test]
async fn lianyungang_sessions_ics_has_its_zone_and_no_invented_sessions() {
    let app = spawn_app().await;
    app.import_data().await;
    let (parsed, text) = check_ics(&app, LIANYUNGANG, None).await;
    assert_eq!(
        parsed["events"],
        json!([]),
        "the source gives no session times"
    );
    assert_eq!(
        parsed["timezones"][0]["observances"],
        json!([{"kind": "STANDARD", "dtstart": "2025-01-01T08:00:00", "from": 28800, "to": 28800, "name": "CST"}])
    );
    assert_eq!(
        parsed["name"],
        "Conference on Regional Migration Governance Policies"
    );
    eprintln!("sessions.ics:\n{text}");
    eprintln!("as parsed by icalendar:\n{parsed:#}");
}

#[actix_web::test]
async fn sessions_ics_events_match_a_shanghai_conference() {
    let app = spawn_app().await;
    let owner = app.organiser("ics-sh@example.org", false).await;
    let f = fixture(
        &app,
        &owner.token,
        "International Organization for Migration",
    )
    .await;
    let (parsed, text) = check_ics(&app, &f.cid, None).await;
    assert_eq!(parsed["events"].as_array().map(Vec::len), Some(3));
    assert_eq!(parsed["events"][0]["start"]["local"], "2025-09-17T09:00:00");
    assert_eq!(
        parsed["events"][0]["start"]["utc"],
        "2025-09-17T01:00:00+00:00"
    );
    assert!(text.contains(&format!("UID:{}@plenary\r\n", f.sessions[0])));
    assert!(
        text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"),
        "zone before events"
    );
}

/// A conference from year 1 to 9999 (valid dates) once made `sessions.ics` scan every year of
/// its time zone in three-hour steps, minutes of CPU for one anonymous read; the VTIMEZONE
/// now covers the years of its events only.
#[actix_web::test]
async fn a_ten_thousand_year_conference_exports_its_calendar_at_once() {
    let app = crate::helpers::spawn_app().await;
    let o = app.organiser("millennia@example.org", false).await;
    let (s, conf) = app
        .post(
            "/api/v1/conferences",
            Some(&o.token),
            &serde_json::json!({"title": "Long", "status": "published", "start_date": "0001-01-01",
                    "end_date": "9999-12-31", "time_zone": "Europe/Berlin",
                    "venue": {"city": "Berlin", "country": "DE"}}),
        )
        .await;
    assert_eq!(s, 201, "{conf}");
    let cid = conf["id"].as_str().unwrap_or_default();
    let r = app
        .client
        .get(format!(
            "{}/api/v1/conferences/{cid}/sessions.ics",
            app.address
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
    let ics = String::from_utf8_lossy(r.body()).to_string();
    assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1, "{ics}");
    assert!(
        ics.matches("BEGIN:STANDARD").count() + ics.matches("BEGIN:DAYLIGHT").count() <= 3,
        "{ics}"
    );
}
