//! Accreditation (API.md "Accreditation"): organisers invite focal points, who accept and
//! nominate their delegations; grants decide what an account may do, read on every request.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, status_json, test_options, Organiser, TestApp, PASSWORD,
};
use crate::security::{fill, routes, world};

/// Invites `email` to delegation `did` of conference `cid`; answers (focal point id, code).
async fn invite(app: &TestApp, token: &str, cid: &str, did: &str, email: &str) -> (String, String) {
    let (s, body) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points"),
            Some(token),
            &json!({"email": email, "name": "Souksavanh Phommachanh"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["status"], "invited");
    // The code leaves only in the invitation e-mail.
    assert_eq!(body["invitation_code"], Value::Null);
    let code = app.invitation_code(email).await;
    // At least 128 random bits, URL-safe.
    assert!(code.len() >= 22, "{code}");
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{code}"
    );
    (body["id"].as_str().unwrap_or_default().to_string(), code)
}

async fn accept(app: &TestApp, code: &str, password: &str) -> (u16, Value) {
    app.post(
        "/api/v1/auth/invitations/accept",
        None,
        &json!({"code": code, "password": password}),
    )
    .await
}

/// A published conference of `owner` with one delegation (Lao PDR); answers (cid, did).
async fn conference_with_delegation(app: &TestApp, owner: &Organiser) -> (String, String) {
    let f = app
        .fixture()
        .owner(owner)
        .delegation("Lao PDR")
        .build()
        .await;
    (f.conference, f.delegations[0].clone())
}

#[actix_web::test]
async fn invite_accept_nominate_accept_and_the_list_of_participants() {
    let app = spawn_app().await;
    let owner = app.organiser("secretariat@nia.gov.cn", false).await;
    let t = Some(owner.token.as_str());
    let (cid, did) = conference_with_delegation(&app, &owner).await;
    app.patch(
        &format!("/api/v1/conferences/{cid}"),
        t,
        &json!({"participants_public": true}),
    )
    .await;
    let (_, code) = invite(
        &app,
        &owner.token,
        &cid,
        &did,
        "Focal.Point@immigration.gov.la",
    )
    .await;

    // Accepting creates the account: not an organiser, the focal point of the delegation.
    let (s, token) = accept(&app, &code, "a long passphrase of mine").await;
    assert_eq!(s, 200, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    let fp = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, me) = app.get("/api/v1/me", Some(&fp)).await;
    assert_eq!(s, 200);
    assert_eq!(me["email"], "Focal.Point@immigration.gov.la");
    assert_eq!(me["is_organiser"], false);
    assert_eq!(
        me["focal_point_of"],
        json!([{"conference_id": cid, "delegation_id": did}])
    );
    // The same code works once.
    assert_eq!(
        accept(&app, &code, "a long passphrase of mine").await.0,
        401
    );
    // The account logs in like any other.
    let (s, _) = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"email": "focal.point@immigration.gov.la", "password": "a long passphrase of mine"}),
        )
        .await;
    assert_eq!(s, 200);

    // The focal point nominates; the nominee waits for the secretariat.
    let members = format!("/api/v1/conferences/{cid}/delegations/{did}/members");
    let (s, nominee) = app
        .post(
            &members,
            Some(&fp),
            &json!({"full_name": "Khamphout Vongsa", "title": "Director-General", "is_head": true}),
        )
        .await;
    assert_eq!(s, 201, "{nominee}");
    assert_eq!(nominee["nomination_status"], "nominated");
    let participants = format!("/api/v1/conferences/{cid}/participants");
    let (_, list) = app.get(&participants, None).await;
    assert!(
        !list.to_string().contains("Khamphout"),
        "a nominee is not a participant yet: {list}"
    );

    // The secretariat accepts; the member is on the list of participants.
    let member = format!("{members}/{}", nominee["id"].as_str().unwrap_or_default());
    let (s, accepted) = app
        .patch(&member, t, &json!({"nomination_status": "accepted"}))
        .await;
    assert_eq!(
        (s, accepted["nomination_status"].as_str()),
        (200, Some("accepted"))
    );
    let (s, list) = app.get(&participants, None).await;
    assert_eq!(s, 200);
    assert!(list.to_string().contains("Khamphout Vongsa"), "{list}");

    // The focal point's change sends it back for review.
    let (s, changed) = app
        .patch(
            &member,
            Some(&fp),
            &json!({"position": "Head of delegation"}),
        )
        .await;
    assert_eq!(
        (s, changed["nomination_status"].as_str()),
        (200, Some("nominated"))
    );
    let (_, list) = app.get(&participants, None).await;
    assert!(!list.to_string().contains("Khamphout"), "{list}");
}

#[actix_web::test]
async fn every_refused_code_and_password_gets_the_same_401() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let (cid, did) = conference_with_delegation(&app, &owner).await;
    let mut refusals = Vec::new();

    // Unknown.
    refusals.push(
        accept(
            &app,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "whatever password",
        )
        .await,
    );
    // Reused.
    let (_, used) = invite(&app, &owner.token, &cid, &did, "used@example.org").await;
    assert_eq!(
        accept(&app, &used, "a long passphrase of mine").await.0,
        200
    );
    refusals.push(accept(&app, &used, "a long passphrase of mine").await);
    // Expired: the database's clock decides, so move the invitation's expiry into the past.
    let (expired_id, expired) = invite(&app, &owner.token, &cid, &did, "late@example.org").await;
    {
        let mut conn = app.conn().await;
        diesel::sql_query(
            "UPDATE focal_points SET expires_at = now() - interval '1 second' WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::parse_str(&expired_id).expect("id"))
        .execute(&mut conn)
        .await
        .expect("expire");
    }
    refusals.push(accept(&app, &expired, "a long passphrase of mine").await);
    // Revoked.
    let (revoked_id, revoked) = invite(&app, &owner.token, &cid, &did, "gone@example.org").await;
    let (s, _) = app
        .delete(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points/{revoked_id}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 204);
    refusals.push(accept(&app, &revoked, "a long passphrase of mine").await);
    // The wrong password of an existing account (the email in another letter case).
    app.organiser("existing@example.org", false).await;
    let (_, existing) = invite(&app, &owner.token, &cid, &did, "EXISTING@example.org").await;
    refusals.push(accept(&app, &existing, "not the password at all").await);

    assert_eq!(refusals.len(), 5);
    let first = refusals[0].clone();
    assert_eq!(first.0, 401);
    assert_eq!(first.1["type"], "/problems/unauthorized");
    for r in &refusals {
        assert_eq!(r, &first, "every refusal is the same");
    }
    // The list shows what happened to each, never a code.
    let (_, list) = app
        .get(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points"),
            Some(&owner.token),
        )
        .await;
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, ["active", "expired", "revoked", "invited"]);
    assert!(!list.to_string().contains(&used) && !list.to_string().contains("invitation_code"));
    // The existing account's own password works, and it keeps its organiser grant.
    let (s, token) = accept(&app, &existing, PASSWORD).await;
    assert_eq!(s, 200, "{token}");
    let (_, me) = app.get("/api/v1/me", token["access_token"].as_str()).await;
    assert_eq!(me["is_organiser"], true);
    assert_eq!(me["focal_point_of"][0]["delegation_id"], did.as_str());
    // Only hashes are stored.
    let mut conn = app.conn().await;
    use plenary::db::schema::focal_points;
    let hashes: Vec<String> = focal_points::table
        .select(focal_points::code_hash)
        .load(&mut conn)
        .await
        .expect("hashes");
    for code in [&used, &expired, &revoked, &existing] {
        assert!(!hashes.contains(code));
        assert!(hashes.contains(&plenary::store::codes::hash_code(code)));
    }
}

#[actix_web::test]
async fn guessing_codes_is_rate_limited_like_logins() {
    let mut options = test_options();
    options.login_limits.per_address = 3;
    let app = spawn_app_with(options).await;
    for i in 0..3 {
        let (s, _) = accept(
            &app,
            &format!("guess-{i}-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "x",
        )
        .await;
        assert_eq!(s, 401);
    }
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(&json!({"code": "guess-4", "password": "x"})),
        )
        .await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    // One limiter: the same address is now refused at /auth/token too.
    let (s, _) = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"email": "someone@example.org", "password": "wrong password"}),
        )
        .await;
    assert_eq!(s, 429);
}

#[actix_web::test]
async fn a_new_account_needs_a_12_character_password_and_the_code_survives() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let (cid, did) = conference_with_delegation(&app, &owner).await;
    let (_, code) = invite(&app, &owner.token, &cid, &did, "new@example.org").await;
    let (s, body) = accept(&app, &code, "too short").await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "password");
    let (s, body) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": code, "password": "long enough password", "name": "  Dr. Nguyen\u{0301}  ", "role": "admin"}),
        )
        .await;
    assert_eq!(s, 422, "unknown fields are refused: {body}");
    let (s, body) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": code, "password": "long enough password", "name": "  Nguyễn Văn An  "}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, me) = app.get("/api/v1/me", body["access_token"].as_str()).await;
    assert_eq!(me["name"], "Nguyễn Văn An");
}

#[actix_web::test]
async fn revoking_takes_effect_on_the_next_request_with_the_same_token() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let (cid, did) = conference_with_delegation(&app, &owner).await;
    let (fid, code) = invite(&app, &owner.token, &cid, &did, "fp@example.org").await;
    let (_, token) = accept(&app, &code, "a long passphrase of mine").await;
    let fp = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let members = format!("/api/v1/conferences/{cid}/delegations/{did}/members");
    assert_eq!(app.get(&members, Some(&fp)).await.0, 200);
    let (s, _) = app
        .delete(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points/{fid}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(app.get(&members, Some(&fp)).await.0, 404);
    let (s, _) = app
        .post(&members, Some(&fp), &json!({"full_name": "Too Late"}))
        .await;
    assert_eq!(s, 403);
    let (_, me) = app.get("/api/v1/me", Some(&fp)).await;
    assert_eq!(me["focal_point_of"], json!([]));
    // Revoking again changes nothing.
    let (s, _) = app
        .delete(
            &format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points/{fid}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 204);

    // Every step is in the conference's log, with who did it.
    let (_, log) = app
        .get(
            &format!("/api/v1/conferences/{cid}/log"),
            Some(&owner.token),
        )
        .await;
    let steps: Vec<(String, String)> = log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["resource_type"] == "focal_point")
                .map(|e| {
                    (
                        e["action"].as_str().unwrap_or_default().to_string(),
                        e["organiser_id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (_, fp_me) = app.get("/api/v1/me", Some(&fp)).await;
    let owner_id = owner.id.to_string();
    let fp_id = fp_me["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        steps,
        [
            ("update".to_string(), owner_id.clone()),
            ("update".to_string(), fp_id),
            ("create".to_string(), owner_id),
        ],
        "newest first: revoked, accepted, invited"
    );
}

#[actix_web::test]
async fn a_focal_points_account_is_not_an_organiser_until_given_a_conference() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let f = app
        .fixture()
        .owner(&owner)
        .delegation("Lao PDR")
        .focal_point("fp@example.org")
        .build()
        .await;
    let cid = f.conference.clone();
    let fp = &f.focal_points[0];
    let t = Some(fp.token.as_str());
    let conference = json!({"title": "Mine", "start_date": "2025-09-17", "end_date": "2025-09-17",
                            "time_zone": "Asia/Shanghai", "venue": {"city": "Vientiane", "country": "LA"}});
    let (s, body) = app.post("/api/v1/conferences", t, &conference).await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = app
        .post(
            "/api/v1/organisations",
            t,
            &json!({"name": "Mine", "kind": "other"}),
        )
        .await;
    assert_eq!(s, 403);
    let (_, org) = app
        .post(
            "/api/v1/organisations",
            Some(&owner.token),
            &json!({"name": "Theirs", "kind": "other"}),
        )
        .await;
    let org = format!(
        "/api/v1/organisations/{}",
        org["id"].as_str().unwrap_or_default()
    );
    assert_eq!(app.patch(&org, t, &json!({"acronym": "X"})).await.0, 403);
    assert_eq!(app.delete(&org, t).await.0, 403);
    assert_eq!(app.get(&format!("{org}/log"), t).await.0, 403);
    // An owner may still make it an editor of that conference: then it changes that one.
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/organisers"),
            Some(&owner.token),
            &json!({"email": "fp@example.org", "role": "editor"}),
        )
        .await;
    assert_eq!(s, 202);
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}"),
            t,
            &json!({"theme": "Migration"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(app.post("/api/v1/conferences", t, &conference).await.0, 403);
}

#[actix_web::test]
async fn invitations_validate_and_refuse_a_second_live_one() {
    let mut options = test_options();
    options.invitation_ttl_days = 3;
    let app = spawn_app_with(options).await;
    let owner = app.organiser("owner@example.org", false).await;
    let (cid, did) = conference_with_delegation(&app, &owner).await;
    let url = format!("/api/v1/conferences/{cid}/delegations/{did}/focal-points");
    let t = Some(owner.token.as_str());
    for (body, field) in [
        (json!({"name": "No Email"}), "email"),
        (json!({"email": "not an email", "name": "X"}), "email"),
        (json!({"email": "a@example.org"}), "name"),
        (
            json!({"email": "a@example.org", "name": "Evil\u{202E}gnp"}),
            "name",
        ),
        (
            json!({"email": "a@example.org", "name": "X", "code": "mine"}),
            "code",
        ),
    ] {
        let (s, problem) = app.post(&url, t, &body).await;
        assert_eq!(s, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, list) = app.get(&url, t).await;
    assert_eq!(list["items"], json!([]), "nothing stored");
    let before = chrono::Utc::now();
    let (_, _) = invite(&app, &owner.token, &cid, &did, "fp@example.org").await;
    let (_, list) = app.get(&url, t).await;
    let expires = list["items"][0]["expires_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .expect("expires_at");
    let days = (expires - before).num_hours();
    assert!(
        (71..=72).contains(&days),
        "PLENARY_INVITATION_TTL_DAYS=3: {days} h"
    );
    let (s, body) = app
        .post(
            &url,
            t,
            &json!({"email": "FP@example.org", "name": "Again"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    // Another conference's delegation id under this conference: 404.
    let (other_cid, other_did) = conference_with_delegation(&app, &owner).await;
    let (s, _) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations/{other_did}/focal-points"),
            t,
            &json!({"email": "x@example.org", "name": "X"}),
        )
        .await;
    assert_eq!(s, 404);
    let _ = other_cid;
    // An editor invites; a stranger may not.
    let stranger = app.organiser("stranger@example.org", false).await;
    let (s, _) = app
        .post(
            &url,
            Some(&stranger.token),
            &json!({"email": "y@example.org", "name": "Y"}),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.get(&url, Some(&stranger.token)).await.0, 403);
}

#[derive(QueryableByName)]
struct Print {
    #[diesel(sql_type = diesel::sql_types::Text)]
    print: String,
}

/// Every row of every table a write under a conference can touch, as one digest.
async fn fingerprint(app: &TestApp) -> String {
    let tables = [
        "delegation_credentials",
        "credential_documents",
        "conferences",
        "conference_organisers",
        "delegations",
        "delegation_members",
        "sessions",
        "session_delegations",
        "session_presence",
        "delegation_protocol_ranks",
        "focal_points",
        "participant_editions",
        "organisations",
        "organisers",
    ];
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} t)"
            )
        })
        .collect();
    let sql = format!("SELECT concat_ws('|', {}) AS print", parts.join(", "));
    let mut conn = app.conn().await;
    diesel::sql_query(sql)
        .get_result::<Print>(&mut conn)
        .await
        .expect("fingerprint")
        .print
}

/// What API.md lets the focal point of delegation `{d}` do beyond what anyone may read.
fn allowed_to_its_focal_point(method: &str, route: &str) -> bool {
    let d = "/api/v1/conferences/{c}/delegations/{d}";
    let allowed = [
        ("GET", "/api/v1/me".to_string()),
        ("GET", "/api/v1/conferences/{c}".to_string()),
        ("GET", d.to_string()),
        ("PATCH", d.to_string()),
        ("GET", format!("{d}/members")),
        ("POST", format!("{d}/members")),
        ("PATCH", format!("{d}/members/{{m}}")),
        ("DELETE", format!("{d}/members/{{m}}")),
        ("GET", format!("{d}/credentials")),
        ("PUT", format!("{d}/credentials")),
        ("GET", format!("{d}/credentials/document")),
    ];
    allowed.iter().any(|(m, r)| *m == method && r == route)
}

/// A body the route would accept from its focal point (for the allowed writes), else one
/// that passes no check by itself.
fn body_for(method: &str, route: &str) -> Value {
    match (method, route.rsplit('/').next().unwrap_or_default()) {
        ("PATCH", "{d}") => json!({"size": 3, "authority": "Immigration Department"}),
        ("POST", "members") => json!({"full_name": "Nominee"}),
        ("PATCH", "{m}") => json!({"position": "Adviser"}),
        _ => json!({"size": 1}),
    }
}

/// For every route of the route table: the focal point of another delegation of the same
/// conference and the focal point of a delegation of another conference get what an
/// anonymous caller gets on reads (403/404 where that is refused) and 403/404 on writes,
/// with every table unchanged; the delegation's own focal point gets exactly the list of
/// API.md (and the same refusals on another delegation's routes).
#[actix_web::test]
async fn focal_points_get_exactly_what_api_md_allows_on_every_route() {
    let app = spawn_app().await;
    let owner = app.organiser("owner@example.org", false).await;
    let mine = world(&app, &owner).await;
    let other_conference = world(&app, &owner).await;
    let value = |values: &[(&str, String)], key: &str| {
        values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (cid, did) = (value(&mine, "{c}"), value(&mine, "{d}"));
    // A second delegation of the same conference, with a member.
    let (s, e) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations"),
            Some(&owner.token),
            &json!({"country": "TH"}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let eid = e["id"].as_str().unwrap_or_default().to_string();
    let (_, me) = app
        .post(
            &format!("/api/v1/conferences/{cid}/delegations/{eid}/members"),
            Some(&owner.token),
            &json!({"full_name": "Other Member"}),
        )
        .await;
    let on_e: Vec<(&str, String)> = mine
        .iter()
        .map(|(k, v)| match *k {
            "{d}" => (*k, eid.clone()),
            "{m}" => (*k, me["id"].as_str().unwrap_or_default().to_string()),
            _ => (*k, v.clone()),
        })
        .collect();
    let id = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
    let fp_d = app
        .focal_point("fp-d@example.org", id(&cid), id(&did))
        .await;
    let fp_e = app
        .focal_point("fp-e@example.org", id(&cid), id(&eid))
        .await;
    let fp_other = app
        .focal_point(
            "fp-other@example.org",
            id(&value(&other_conference, "{c}")),
            id(&value(&other_conference, "{d}")),
        )
        .await;

    let routes: Vec<(String, String)> = routes()
        .into_iter()
        .filter(|(m, r)| !(m == "POST" && r.starts_with("/api/v1/auth/")))
        .collect();
    // The delegation's own focal point goes last: its allowed DELETE removes the member.
    let cases = [
        (
            "focal point of another delegation",
            &fp_e.token,
            &mine,
            false,
        ),
        (
            "focal point in another conference",
            &fp_other.token,
            &mine,
            false,
        ),
        (
            "focal point, another delegation's routes",
            &fp_d.token,
            &on_e,
            false,
        ),
        ("focal point of the delegation", &fp_d.token, &mine, true),
    ];
    let mut checked = 0;
    for (who, token, values, own) in cases {
        for (method, route) in &routes {
            let path = fill(route, values);
            let m = Method::from_bytes(method.as_bytes()).expect("method");
            let body = (method != "GET").then(|| body_for(method, route));
            let before = fingerprint(&app).await;
            let (status, answer) = if method == "PUT" && route.ends_with("/credentials") {
                crate::credentials::put_document(
                    &app,
                    &path,
                    Some(token),
                    "application/pdf",
                    crate::credentials::PDF.to_vec(),
                )
                .await
            } else {
                status_json(
                    app.request(m.clone(), &path, Some(token), body.as_ref())
                        .await,
                )
                .await
            };
            checked += 1;
            if (own || route == "/api/v1/me") && allowed_to_its_focal_point(method, route) {
                assert!(
                    (200..300).contains(&status),
                    "{who}: {method} {path}: {status} {answer}"
                );
                continue;
            }
            if method == "GET" {
                let (anonymous, _) = app.get(&path, None).await;
                if anonymous < 400 {
                    assert_eq!(status, anonymous, "{who}: {method} {path} is public");
                } else {
                    assert!(
                        status == 403 || status == 404,
                        "{who}: {method} {path}: {status} (anonymous {anonymous}) {answer}"
                    );
                }
                continue;
            }
            assert!(
                status == 403 || status == 404,
                "{who}: {method} {path}: {status} {answer}"
            );
            assert_eq!(
                fingerprint(&app).await,
                before,
                "{who}: {method} {path} changed nothing"
            );
        }
    }
    assert!(checked >= 4 * 50, "{checked} cases");
    println!(
        "focal-point matrix: {} routes x 4 callers = {checked} cases",
        routes.len()
    );
    // A focal point changing a field that is not its to change: 403, nothing changed.
    let before = fingerprint(&app).await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/conferences/{cid}/delegations/{did}"),
            Some(&fp_d.token),
            &json!({"size": 4, "status": "confirmed"}),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(fingerprint(&app).await, before);
}
