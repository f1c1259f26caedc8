//! Badges, check-in and presence (API.md): signed badges, the key and the revocation list,
//! scans at the doors and what they change.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use crate::helpers::{id, spawn_app, Organiser, TestApp};

/// A published conference with a registered delegation of Cambodia and one accepted member;
/// answers (conference path, delegation path, member badge path, owner).
async fn world(app: &TestApp, email: &str) -> (String, String, String, Organiser) {
    let o = app.organiser(email, false).await;
    let f = app.fixture().owner(&o).delegation("KH").build().await;
    let c = format!("/api/v1/conferences/{}", f.conference);
    let d = f.delegation_path(0);
    let t = Some(o.token.as_str());
    let (s, _) = app.patch(&d, t, &json!({"status": "registered"})).await;
    assert_eq!(s, 200);
    let (s, m) = app
        .post(
            &format!("{d}/members"),
            t,
            &json!({"full_name": "Sok Chea"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let badge = format!("{d}/members/{}/badge", id(&m));
    (c, d, badge, o)
}

fn scan(token: &str, nonce: &str) -> Value {
    json!({"token": token, "nonce": nonce})
}

fn results(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["result"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_badge_is_signed_reissued_revoked_and_collected() {
    let app = spawn_app().await;
    let (c, d, badge_url, o) = world(&app, "badges@example.org").await;
    let t = Some(o.token.as_str());
    let (s, badge) = app.get(&badge_url, t).await;
    assert_eq!(s, 200, "{badge}");
    assert_eq!(badge["version"], 1);
    assert_eq!(badge["status"], "issued");
    assert_eq!(badge["category"], "party");
    let token = badge["token"].as_str().unwrap_or_default().to_string();
    // The public key verifies it, as a scanner with no network would (anyone may read it).
    let (s, jwk) = app.get(&format!("{c}/badges/key"), None).await;
    assert_eq!(s, 200, "{jwk}");
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap_or_default())
        .expect("an Ed25519 key");
    let mut v = Validation::new(Algorithm::EdDSA);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &v)
        .expect("verifies")
        .claims;
    assert_eq!(claims["sub"], badge["member_id"]);
    assert_eq!(claims["ver"], 1);
    assert_eq!(claims["iss"].as_str(), c.rsplit('/').next());
    assert_eq!(
        claims.as_object().map(|m| m.len()),
        Some(4),
        "no personal data: {claims}"
    );
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    // The same badge on a second read.
    assert_eq!(app.get(&badge_url, t).await.1["token"], badge["token"]);

    // A category set by an organiser; then a lost badge reissued.
    let (s, b) = app.patch(&badge_url, t, &json!({"category": "vip"})).await;
    assert_eq!((s, b["category"].as_str()), (200, Some("vip")), "{b}");
    let (s, bad) = app.patch(&badge_url, t, &json!({"category": "king"})).await;
    assert_eq!(s, 422, "{bad}");
    let (s, re) = app
        .post(&format!("{badge_url}/reissue"), t, &json!({}))
        .await;
    assert_eq!((s, re["version"].as_i64()), (200, Some(2)), "{re}");
    // Both are in the audit log, without the token; the refused 422 is not.
    let (s, log) = app.get(&format!("{c}/log"), t).await;
    assert_eq!(s, 200, "{log}");
    let changes: Vec<&Value> = log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["resource_type"] == "badge")
                .map(|e| &e["changes"]["changed"])
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(changes.len(), 2, "{log}");
    assert!(
        changes.iter().any(|c| c["category"]["to"] == "vip"),
        "{log}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["version"] == json!({"from": 1, "to": 2})),
        "{log}"
    );
    assert!(!log.to_string().contains(&token), "never the token");
    let (s, revoked) = app.get(&format!("{c}/badges/revoked"), t).await;
    assert_eq!(s, 200);
    assert_eq!(
        revoked["items"],
        json!([{"member_id": badge["member_id"], "version": 1}])
    );
    let new = re["token"].as_str().unwrap_or_default().to_string();
    let (s, body) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"items": [scan(&token, "a"), scan(&new, "b"), scan(&new, "b"), scan(&new, "c")]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        results(&body),
        ["revoked", "accepted", "repeat", "accepted"]
    );
    assert_eq!(
        body["items"][1]["delegation_id"].as_str(),
        d.rsplit('/').next()
    );
    // Safe to retry: the same upload records nothing more.
    let (_, again) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"items": [scan(&new, "b")]}),
        )
        .await;
    assert_eq!(results(&again), ["repeat"]);
    let (s, list) = app.get(&format!("{c}/check-ins"), t).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
    // Collected, and the delegation attended.
    let (_, b) = app.get(&badge_url, t).await;
    assert_eq!(b["status"], "collected");
    assert!(b["collected_at"].is_string());
    assert_eq!(app.get(&d, t).await.1["status"], "attended");

    // The member rejected: the badge is revoked, and so is its scan.
    let member = badge_url.trim_end_matches("/badge").to_string();
    let (s, _) = app
        .patch(&member, t, &json!({"nomination_status": "rejected"}))
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get(&badge_url, t).await;
    assert_eq!(b["status"], "revoked");
    let (_, body) = app
        .post(&format!("{c}/check-ins"), t, &scan(&new, "d"))
        .await;
    assert_eq!(results(&body), ["revoked"]);
    let (_, revoked) = app.get(&format!("{c}/badges/revoked"), t).await;
    assert_eq!(revoked["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        app.post(&format!("{badge_url}/reissue"), t, &json!({}))
            .await
            .0,
        409
    );
}

#[actix_web::test]
async fn forged_foreign_and_other_algorithm_tokens_are_never_accepted() {
    let app = spawn_app().await;
    let (c, _, badge_url, o) = world(&app, "forged@example.org").await;
    let (c2, _, badge2, o2) = world(&app, "other@example.org").await;
    let t = Some(o.token.as_str());
    let (_, badge) = app.get(&badge_url, t).await;
    let (_, theirs) = app.get(&badge2, Some(&o2.token)).await;
    assert_ne!(c, c2);
    let token = badge["token"].as_str().unwrap_or_default().to_string();
    let (head, rest) = token.split_once('.').expect("jws");
    let (payload, sig) = rest.split_once('.').expect("jws");
    // A forged signature: the last character changed.
    let mut forged_sig = sig.to_string();
    let last = forged_sig.pop().unwrap_or('A');
    forged_sig.push(if last == 'A' { 'B' } else { 'A' });
    let forged = format!("{head}.{payload}.{forged_sig}");
    // `alg: none`.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!("{}.{payload}.", b64.encode(br#"{"alg":"none"}"#));
    // HS256 signed with the public key's bytes (the classic confusion attack).
    let (_, jwk) = app.get(&format!("{c}/badges/key"), None).await;
    let public = b64
        .decode(jwk["x"].as_str().unwrap_or_default())
        .expect("base64url");
    let claims: Value =
        serde_json::from_slice(&b64.decode(payload).expect("payload")).expect("json");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = jwk["kid"].as_str().map(str::to_owned);
    let hs =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&public)).expect("hs");
    let other = theirs["token"].as_str().unwrap_or_default().to_string();
    let items = json!({"items": [
        scan(&forged, "1"), scan(&none, "2"), scan(&hs, "3"), scan(&other, "4"),
        scan("not a token", "5"), scan(&token, "6"),
    ]});
    let (s, body) = app.post(&format!("{c}/check-ins"), t, &items).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        results(&body),
        [
            "invalid",
            "invalid",
            "invalid",
            "other_conference",
            "invalid",
            "accepted"
        ]
    );
    // One bad scan does not refuse the batch; a malformed one is 422 and records nothing.
    let (s, _) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"items": [scan(&token, "7"), {"token": "x"}]}),
        )
        .await;
    assert_eq!(s, 422);
    let (_, list) = app.get(&format!("{c}/check-ins"), t).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn check_in_staff_scan_and_read_badges_and_nothing_else() {
    let app = spawn_app().await;
    let (c, d, badge_url, o) = world(&app, "staff-owner@example.org").await;
    let staff = app.organiser("door@example.org", false).await;
    let (s, _) = app
        .post(
            &format!("{c}/organisers"),
            Some(&o.token),
            &json!({"email": "door@example.org", "role": "check_in"}),
        )
        .await;
    assert_eq!(s, 202);
    let st = Some(staff.token.as_str());
    let (s, badge) = app.get(&badge_url, st).await;
    assert_eq!(s, 200, "{badge}");
    assert_eq!(app.get(&format!("{c}/badges/key"), st).await.0, 200);
    assert_eq!(app.get(&format!("{c}/badges/revoked"), st).await.0, 200);
    assert_eq!(app.get(&c, st).await.0, 200);
    let token = badge["token"].as_str().unwrap_or_default();
    let (s, body) = app
        .post(&format!("{c}/check-ins"), st, &scan(token, "n1"))
        .await;
    assert_eq!((s, results(&body)), (200, vec!["accepted".to_string()]));
    // Everything else: 403.
    assert_eq!(app.patch(&d, st, &json!({"size": 3})).await.0, 403);
    assert_eq!(app.patch(&c, st, &json!({"theme": "x"})).await.0, 403);
    assert_eq!(app.get(&format!("{d}/members"), st).await.0, 404);
    assert_eq!(app.get(&format!("{c}/check-ins"), st).await.0, 403);
    assert_eq!(
        app.patch(&badge_url, st, &json!({"category": "vip"}))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post(&format!("{badge_url}/reissue"), st, &json!({}))
            .await
            .0,
        403
    );
    assert_eq!(app.get(&format!("{c}/log"), st).await.0, 403);
    // Another account may not scan, nor read badges.
    let stranger = app.organiser("stranger@example.org", false).await;
    let (s, _) = app
        .post(
            &format!("{c}/check-ins"),
            Some(&stranger.token),
            &scan(token, "n2"),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.get(&badge_url, Some(&stranger.token)).await.0, 404);
    assert_eq!(
        app.get(&format!("{c}/badges/revoked"), Some(&stranger.token))
            .await
            .0,
        403
    );
}

#[actix_web::test]
async fn an_offline_queue_uploaded_twice_at_once_records_each_nonce_once() {
    let app = spawn_app().await;
    let (c, _, badge_url, o) = world(&app, "queue@example.org").await;
    let t = Some(o.token.as_str());
    let (_, badge) = app.get(&badge_url, t).await;
    let token = badge["token"].as_str().unwrap_or_default();
    // 500 scans, of which 100 repeat an earlier nonce: 400 distinct.
    let items: Vec<Value> = (0..500)
        .map(|i| scan(token, &format!("n{}", if i < 400 { i } else { i - 400 })))
        .collect();
    let body = json!({"items": items});
    let url = format!("{c}/check-ins");
    let (a, b) = futures::future::join(app.post(&url, t, &body), app.post(&url, t, &body)).await;
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let accepted = |r: &Value| results(r).iter().filter(|r| *r == "accepted").count();
    let repeats = |r: &Value| results(r).iter().filter(|r| *r == "repeat").count();
    assert_eq!(accepted(&a.1) + accepted(&b.1), 400);
    assert_eq!(repeats(&a.1) + repeats(&b.1), 600);
    let mut conn = app.conn().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM check_ins")
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(n.n, 400);
}

#[actix_web::test]
async fn presence_at_a_session_comes_from_scans_and_manual_entries_say_which() {
    let app = spawn_app().await;
    let (c, d, badge_url, o) = world(&app, "presence-scan@example.org").await;
    let t = Some(o.token.as_str());
    let (s, other) = app
        .post(
            &format!("{c}/delegations"),
            t,
            &json!({"country": "LA", "status": "confirmed"}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let (s, session) = app
        .post(
            &format!("{c}/sessions"),
            t,
            &json!({"title": "Opening", "starts_at": "2025-09-17T09:00", "ends_at": "2025-09-17T10:00"}),
        )
        .await;
    assert_eq!(s, 201, "{session}");
    let att = format!("{c}/sessions/{}/attendance", id(&session));
    let (s, _) = app
        .put(&att, t, &json!({"delegation_ids": [id(&other)]}))
        .await;
    assert_eq!(s, 200);
    let (_, badge) = app.get(&badge_url, t).await;
    // Read (and cached) anonymously before the scans: a door scan leaves it as it is, a scan
    // into the session shows at once.
    let (s, before) = app.get(&att, None).await;
    assert_eq!(
        (s, before["members_present"].as_i64()),
        (200, Some(0)),
        "{before}"
    );
    let (s, _) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"token": badge["token"], "direction": "in", "nonce": "door-1"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(app.get(&att, None).await.1["members_present"], 0);
    let (s, body) = app
        .post(
            &format!("{c}/check-ins"),
            t,
            &json!({"token": badge["token"], "session_id": id(&session), "direction": "in", "nonce": "s1"}),
        )
        .await;
    assert_eq!((s, results(&body)), (200, vec!["accepted".to_string()]));
    let (s, a) = app.get(&att, None).await;
    assert_eq!(s, 200, "{a}");
    let did = d.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(a["sources"][&did], "check_in", "{a}");
    assert_eq!(a["sources"][id(&other)], "manual", "{a}");
    assert_eq!(a["delegation_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(a["members_present"], 1);
    assert_eq!(a["states"], json!({"registered": 2, "present": 2}));
    // The session in the presence matrix too.
    let (s, m) = app.get(&format!("{c}/attendance?by=session"), None).await;
    assert_eq!(s, 200, "{m}");
    let present: usize = m["delegations"]
        .as_array()
        .map(|ds| ds.iter().filter(|d| d["present"][0] == true).count())
        .unwrap_or(0);
    assert_eq!(present, 2, "{m}");
}

/// The `data-member-id`s of a page of badges, in the order printed.
fn printed_members(page: &str) -> Vec<String> {
    page.split(r#"data-member-id=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[actix_web::test]
async fn badges_html_prints_every_accredited_member_four_to_a_page_for_organisers_only() {
    let app = spawn_app().await;
    let o = app.organiser("print-badges@example.org", false).await;
    let f = app
        .fixture()
        .owner(&o)
        .delegation("KH")
        .delegation("Viet Nam")
        .focal_point("fp-vn@example.org")
        .delegation("Thailand")
        .build()
        .await;
    let c = format!("/api/v1/conferences/{}", f.conference);
    let t = Some(o.token.as_str());
    let mut accepted = Vec::new();
    // Cambodia (registered): 4 accepted members, the head with a name in Khmer script.
    let kh = f.delegation_path(0);
    assert_eq!(
        app.patch(&kh, t, &json!({"status": "registered"})).await.0,
        200
    );
    for (i, name) in ["Sok Chea", "Chan Dara", "Keo Sophal", "Lim Bora"]
        .iter()
        .enumerate()
    {
        let body = if i == 0 {
            json!({"full_name": name, "family_name": "Sok", "native_name": "សុខ ជា",
                   "honorific": "H.E.", "is_head": true})
        } else {
            json!({"full_name": name})
        };
        let (s, m) = app.post(&format!("{kh}/members"), t, &body).await;
        assert_eq!(s, 201, "{m}");
        accepted.push(id(&m));
    }
    // Viet Nam (confirmed): one accepted, one only nominated by its focal point (no badge).
    let vn = f.delegation_path(1);
    assert_eq!(
        app.patch(&vn, t, &json!({"status": "confirmed"})).await.0,
        200
    );
    let (s, m) = app
        .post(
            &format!("{vn}/members"),
            t,
            &json!({"full_name": "Nguyễn Văn An", "family_name": "Nguyễn"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let vn_member = id(&m);
    accepted.push(vn_member.clone());
    let fp = Some(f.focal_points[0].token.as_str());
    let (s, nominee) = app
        .post(
            &format!("{vn}/members"),
            fp,
            &json!({"full_name": "Trần Thị Bình"}),
        )
        .await;
    assert_eq!(
        (s, nominee["nomination_status"].as_str()),
        (201, Some("nominated"))
    );
    // Thailand (declined: does not count): its accepted member has no badge.
    assert_eq!(
        app.patch(&f.delegation_path(2), t, &json!({"status": "declined"}))
            .await
            .0,
        200
    );
    let (s, _) = app
        .post(
            &format!("{}/members", f.delegation_path(2)),
            t,
            &json!({"full_name": "Somchai"}),
        )
        .await;
    assert_eq!(s, 201);

    let (s, headers, page) = app.get_text(&format!("{c}/badges.html"), t).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .starts_with("default-src 'none'"));
    let mut printed = printed_members(&page);
    assert_eq!(printed.len(), 5, "{page}");
    assert_eq!(
        page.matches(r#"<section class="sheet""#).count(),
        2,
        "4 + 1"
    );
    assert_eq!(page.matches("<svg").count(), 5);
    assert!(page.contains("SOK Chea") && page.contains("NGUYỄN Văn An"));
    assert!(page.contains(">Delegate</div>"));
    assert!(!page.contains("Trần Thị Bình") && !page.contains("Somchai"));
    printed.sort();
    accepted.sort();
    assert_eq!(printed, accepted);
    // The page issued the badges: each member's badge is the version printed.
    let (s, badge) = app.get(&format!("{vn}/members/{vn_member}/badge"), t).await;
    assert_eq!((s, badge["version"].as_i64()), (200, Some(1)));

    // One delegation's; another conference's delegation is 404, a malformed id 422.
    let (s, _, one) = app
        .get_text(
            &format!("{c}/badges.html?delegation={}", f.delegations[1]),
            t,
        )
        .await;
    assert_eq!((s, printed_members(&one)), (200, vec![vn_member.clone()]));
    let other = app.fixture().owner(&o).delegation("LA").build().await;
    let (s, _, body) = app
        .get_text(
            &format!("{c}/badges.html?delegation={}", other.delegations[0]),
            t,
        )
        .await;
    assert_eq!(s, 404, "{body}");
    let (s, _, body) = app
        .get_text(&format!("{c}/badges.html?delegation=x"), t)
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(body.contains("delegation"), "{body}");

    // A reissued badge is printed at its new version; a rejected member is gone.
    let (s, _) = app
        .post(
            &format!("{vn}/members/{vn_member}/badge/reissue"),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, _, again) = app.get_text(&format!("{c}/badges.html"), t).await;
    assert!(again.contains(&format!(r#"data-member-id="{vn_member}" data-version="2""#)));
    let (s, _) = app
        .patch(
            &format!("{kh}/members/{}", accepted[0]),
            t,
            &json!({"nomination_status": "rejected"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, _, after) = app.get_text(&format!("{c}/badges.html"), t).await;
    assert_eq!(printed_members(&after).len(), 4);

    // Organisers only: anonymous 401, a focal point and check-in staff 403.
    assert_eq!(app.get_text(&format!("{c}/badges.html"), None).await.0, 401);
    assert_eq!(app.get_text(&format!("{c}/badges.html"), fp).await.0, 403);
    let staff = app.organiser("print-door@example.org", false).await;
    let (s, _) = app
        .post(
            &format!("{c}/organisers"),
            t,
            &json!({"email": "print-door@example.org", "role": "check_in"}),
        )
        .await;
    assert_eq!(s, 202);
    assert_eq!(
        app.get_text(&format!("{c}/badges.html"), Some(&staff.token))
            .await
            .0,
        403
    );
}
