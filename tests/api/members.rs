use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{id, spawn_app, status_json, TestApp};

#[actix_web::test]
async fn members_are_for_organisers_only_and_head_comes_first() {
    let app = spawn_app().await;
    let o = app.organiser("members@example.org", false).await;
    let other = app.organiser("outsider@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let (_, d) = app
        .post(
            &format!("/api/v1/conferences/{}/delegations", id(&conf)),
            t,
            &json!({"country": "KH"}),
        )
        .await;
    let base = format!(
        "/api/v1/conferences/{}/delegations/{}/members",
        id(&conf),
        id(&d)
    );
    let (s, m1) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Adviser One", "position": "Adviser", "email": "one@example.org"}),
        )
        .await;
    assert_eq!(s, 201, "{m1}");
    let (s, head) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Head Person", "title": "H.E.", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{head}");
    let (s, _) = app
        .post(
            &base,
            t,
            &json!({"full_name": "Second Head", "is_head": true}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, bad) = app
        .post(&base, t, &json!({"full_name": "", "email": "not-an-email"}))
        .await;
    assert_eq!(s, 422, "{bad}");
    let (s, list) = app.get(&base, t).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["full_name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["Head Person", "Adviser One"]);
    assert_eq!(list["items"][1]["email"], "one@example.org");
    // Not for the public, not for other organisers; nor anywhere public.
    assert_eq!(app.get(&base, None).await.0, 404);
    assert_eq!(app.get(&base, Some(&other.token)).await.0, 404);
    assert_eq!(
        app.post(&base, Some(&other.token), &json!({"full_name": "X"}))
            .await
            .0,
        403
    );
    let (_, att) = app
        .get(
            &format!("/api/v1/conferences/{}/attendance", id(&conf)),
            None,
        )
        .await;
    assert!(!att.to_string().contains("one@example.org"));
    let path = format!("{base}/{}", id(&m1));
    let (s, p) = app
        .patch(&path, t, &json!({"position": "Senior Adviser"}))
        .await;
    assert_eq!((s, p["position"].as_str()), (200, Some("Senior Adviser")));
    assert_eq!(app.delete(&path, t).await.0, 204);
    assert_eq!(app.delete(&path, t).await.0, 404);
}

/// `attendance.csv` as (header, rows), split naively (the test's names hold no comma or quote).
async fn csv_rows(
    app: &TestApp,
    cid: &str,
    token: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let r = app
        .request(
            Method::GET,
            &format!("/api/v1/conferences/{cid}/attendance.csv"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

// A contract fix reported by outside clients (the head of delegation as one fact).
#[actix_web::test]
async fn a_head_member_is_the_delegations_head_everywhere_and_its_head_is_then_read_only() {
    let app = spawn_app().await;
    let o = app.organiser("head@example.org", false).await;
    let t = Some(o.token.as_str());
    let conf = app.conference(&o, "published").await;
    let cid = id(&conf);
    let (s, kh) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "KH", "head": {"name": "Stored Head", "title": "Minister"}}),
        )
        .await;
    assert_eq!(s, 201, "{kh}");
    let (s, la) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            t,
            &json!({"country": "LA", "head": {"name": "Lao Stored Head"}}),
        )
        .await;
    assert_eq!(s, 201, "{la}");
    let did = id(&kh);
    let path = format!("/api/v1/conferences/{cid}/delegations/{did}");
    let (s, member) = app
        .post(
            &format!("{path}/members"),
            t,
            &json!({"full_name": "Sok Member Head", "title": "Secretary of State", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{member}");
    let expected = json!({"name": "Sok Member Head", "title": "Secretary of State"});

    // The delegation, both lists and the list of participants show the head member.
    let (s, one) = app.get(&path, t).await;
    assert_eq!(s, 200);
    assert_eq!(one["head"], expected, "{one}");
    for order in ["", "?order=protocol"] {
        let (s, list) = app
            .get(&format!("/api/v1/conferences/{cid}/delegations{order}"), t)
            .await;
        assert_eq!(s, 200, "{list}");
        let heads: Vec<&Value> = list["items"]
            .as_array()
            .map(|a| a.iter().map(|d| &d["head"]).collect())
            .unwrap_or_default();
        assert!(heads.contains(&&expected), "{order}: {list}");
        assert!(
            heads.contains(&&json!({"name": "Lao Stored Head", "title": null})),
            "{order}: {list}"
        );
    }
    let (s, participants) = app
        .get(&format!("/api/v1/conferences/{cid}/participants"), t)
        .await;
    assert_eq!(s, 200, "{participants}");
    let kh_line = participants["delegations"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["country"] == "KH"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(kh_line["head"], expected, "{participants}");

    // attendance.csv: head_name and head_title are the member's; the stored head serves the
    // delegation without a head member.
    let rows = csv_rows(&app, &cid, &o.token).await;
    let kh_row = rows
        .iter()
        .find(|r| r["country"] == "KH")
        .cloned()
        .unwrap_or_default();
    assert_eq!(kh_row["head_name"], "Sok Member Head");
    assert_eq!(kh_row["head_title"], "Secretary of State");
    let la_row = rows
        .iter()
        .find(|r| r["country"] == "LA")
        .cloned()
        .unwrap_or_default();
    assert_eq!(la_row["head_name"], "Lao Stored Head");

    // A PATCH of head is 409 while a member is head (null included), and changes nothing.
    for head in [json!({"name": "Someone Else"}), Value::Null] {
        let (s, problem) = app.patch(&path, t, &json!({ "head": head })).await;
        assert_eq!(s, 409, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("is_head"),
            "{problem}"
        );
    }
    // Other fields still change, with the ETag of the representation that shows the member.
    let r = app.request(Method::GET, &path, t, None).await;
    let etag = r.header_text("etag");
    let r = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&o.token)
        .header("if-match", &etag)
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .expect("patch");
    let (s, patched) = status_json(r).await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["head"], expected);
    assert_eq!(patched["status"], "confirmed");

    // Once no member is head, the stored head (unchanged by the refused PATCHes) is back.
    let (s, m) = app
        .patch(
            &format!("{path}/members/{}", id(&member)),
            t,
            &json!({"is_head": false}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let (_, one) = app.get(&path, t).await;
    assert_eq!(
        one["head"],
        json!({"name": "Stored Head", "title": "Minister"})
    );
    let (s, patched) = app
        .patch(&path, t, &json!({"head": {"name": "New Stored Head"}}))
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["head"]["name"], "New Stored Head");
}
