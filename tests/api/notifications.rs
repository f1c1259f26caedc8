//! Notifications (API.md, "Notifications: e-mail and webhooks"): e-mails leave through the
//! outbox, written in the write's own transaction; the embedded default writes `.eml` files,
//! read back here as a mail client would.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use crate::credentials::{put_document, PDF};
use crate::helpers::{spawn_app, start_server, test_options, TestApp};

/// The outbox rows of the test database: (kind, status, recipient, payload).
async fn outbox(app: &TestApp) -> Vec<(String, String, String, Value)> {
    use plenary::db::schema::outbox::dsl as o;
    let mut conn = app.conn().await;
    o::outbox
        .filter(o::channel.eq("email"))
        .order(o::id.asc())
        .select((o::kind, o::status, o::recipient, o::payload))
        .load(&mut conn)
        .await
        .expect("outbox")
}

/// Waits until no e-mail of the outbox is pending.
async fn settled(app: &TestApp) -> Vec<(String, String, String, Value)> {
    for _ in 0..200 {
        let rows = outbox(app).await;
        if rows.iter().all(|r| r.1 != "pending") {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    outbox(app).await
}

#[actix_web::test]
async fn the_invitation_code_leaves_only_in_the_e_mail_which_then_forgets_it() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("Lao PDR").build().await;
    let email = "souksavanh@mps.gov.la";
    let (s, body) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Souksavanh Phommachanh"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["invitation_code"], Value::Null, "{body}");

    let mail = app.mails(email, "invitation", 1).await.remove(0);
    let code = mail.code();
    assert!(code.len() >= 22, "{}", mail.text);
    assert!(
        mail.header("to")
            .is_some_and(|to| to.contains(email) && to.contains("Souksavanh")),
        "{:?}",
        mail.headers
    );
    assert!(mail.header("subject").is_some_and(|s| s.contains("Lao")));
    let message_id = mail.header("message-id").unwrap_or_default().to_string();
    assert!(message_id.starts_with('<') && message_id.contains('@'));
    assert!(
        mail.text.contains("Dear Souksavanh Phommachanh"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("/api/v1/auth/invitations/accept"));
    assert!(mail.html.contains(&code), "{}", mail.html);

    // Delivered: the code is gone from the outbox, the state says sent.
    let rows = settled(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("invitation", "sent")
    );
    assert!(rows[0].3.get("code").is_none(), "{}", rows[0].3);
    assert!(!rows[0].3.to_string().contains(&code));

    // The code from the e-mail accepts the invitation.
    let (s, token) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": code, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(s, 200, "{token}");

    // The organisers see its delivery state, never its body; it cannot be sent again.
    let path = format!("/api/v1/conferences/{}/messages", f.conference);
    let (s, list) = app.get(&path, Some(&f.owner.token)).await;
    assert_eq!(s, 200, "{list}");
    let item = &list["items"][0];
    assert_eq!(item["kind"], "invitation");
    assert_eq!(item["to"], email);
    assert_eq!(item["status"], "sent");
    assert_eq!(item["attempts"], 1);
    assert!(!list.to_string().contains(&code));
    assert_eq!(
        format!("<{}@localhost>", item["id"].as_str().unwrap_or_default()),
        message_id
    );
    let (s, again) = app
        .post(
            &format!("{path}/{}/resend", item["id"].as_str().unwrap_or_default()),
            Some(&f.owner.token),
            &json!({}),
        )
        .await;
    assert_eq!(s, 409, "{again}");
    let (s, _) = app
        .get(&format!("{path}?status=maybe"), Some(&f.owner.token))
        .await;
    assert_eq!(s, 422);
    let (s, only) = app
        .get(
            &format!("{path}?kind=nomination_decided"),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!((s, only["items"].as_array().map(Vec::len)), (200, Some(0)));
}

#[actix_web::test]
async fn a_resend_is_in_the_audit_log() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("KH").build().await;
    let msg = app
        .failed_email(f.conference_id(), "fp@interior.gov.kh")
        .await;
    let c = format!("/api/v1/conferences/{}", f.conference);
    let t = Some(f.owner.token.as_str());
    let (s, state) = app
        .post(&format!("{c}/messages/{msg}/resend"), t, &json!({}))
        .await;
    assert_eq!(
        (s, state["status"].as_str()),
        (202, Some("pending")),
        "{state}"
    );
    let (s, log) = app.get(&format!("{c}/log"), t).await;
    assert_eq!(s, 200);
    let entry = log["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["resource_type"] == "message"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["resource_id"], msg.to_string(), "{log}");
    assert_eq!(entry["action"], "update");
    assert_eq!(
        entry["changes"]["changed"]["status"],
        json!({"from": "failed", "to": "pending"})
    );
}

#[actix_web::test]
async fn a_write_that_fails_sends_nothing() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("KH").build().await;
    let path = format!("{}/focal-points", f.delegation_path(0));
    let body = json!({"email": "fp@interior.gov.kh", "name": "Focal Point"});
    let (s, _) = app.post(&path, Some(&f.owner.token), &body).await;
    assert_eq!(s, 201);
    // The same address again is 409: that write rolls back, and so does its e-mail.
    let (s, _) = app.post(&path, Some(&f.owner.token), &body).await;
    assert_eq!(s, 409);
    app.mails("fp@interior.gov.kh", "invitation", 1).await;
    let rows = settled(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
}

#[actix_web::test]
async fn focal_points_hear_of_decided_nominations_and_reviewed_credentials() {
    let app = spawn_app().await;
    let f = app
        .fixture()
        .delegation("VN")
        .focal_point("fp@bocongan.gov.vn")
        .build()
        .await;
    let fp = &f.focal_points[0];
    let members = format!("{}/members", f.delegation_path(0));
    let (s, m) = app
        .post(
            &members,
            Some(&fp.token),
            &json!({"full_name": "Nguyễn Văn An"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["nomination_status"], "nominated");
    let (s, m) = app
        .patch(
            &format!("{members}/{}", m["id"].as_str().unwrap_or_default()),
            Some(&f.owner.token),
            &json!({"nomination_status": "rejected", "nomination_note": "Please nominate a deputy director or above."}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let mail = app
        .mails("fp@bocongan.gov.vn", "nomination_decided", 1)
        .await
        .remove(0);
    assert!(
        mail.text.contains("rejected") && mail.text.contains("Nguyễn Văn An"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("deputy director"), "{}", mail.text);
    assert!(mail.html.contains("Nguyễn Văn An"));
    // It links to the delegation's page in the portal.
    let page = format!(
        "/portal/conferences/{}/delegations/{}",
        f.conference_id(),
        f.delegation_id(0)
    );
    assert!(mail.text.contains(&page), "{}", mail.text);
    // (minijinja escapes `/` in HTML as `&#x2f;`.)
    assert!(
        mail.html.contains(&page.replace('/', "&#x2f;")),
        "{}",
        mail.html
    );

    // Credentials: the upload is the focal point's, the review the organisers'.
    let creds = format!("{}/credentials", f.delegation_path(0));
    let (s, up) = put_document(
        &app,
        &creds,
        Some(&fp.token),
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{up}");
    let (s, _) = app
        .patch(
            &creds,
            Some(&f.owner.token),
            &json!({"status": "provisional", "note": "Original to follow."}),
        )
        .await;
    assert_eq!(s, 200);
    let mail = app
        .mails("fp@bocongan.gov.vn", "credentials_reviewed", 1)
        .await
        .remove(0);
    assert!(
        mail.text.contains("provisionally") && mail.text.contains("Original to follow."),
        "{}",
        mail.text
    );

    // An accepted nomination decided again is not a second decision e-mail; a focal point's
    // own change is none.
    let rows = settled(&app).await;
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["nomination_decided", "credentials_reviewed"],
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.1 == "sent"));

    // The messages are the organisers': a focal point may not read them.
    let path = format!("/api/v1/conferences/{}/messages", f.conference);
    let (s, _) = app.get(&path, Some(&fp.token)).await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, _) = app.get(&path, None).await;
    assert_eq!(s, 401);
}

#[actix_web::test]
async fn the_reminder_leaves_once_per_focal_point_even_with_two_instances() {
    let app = spawn_app().await;
    let f = app
        .fixture()
        .delegation("TH")
        .focal_point("fp1@immigration.go.th")
        .delegation("MM")
        .focal_point("fp2@moip.gov.mm")
        .build()
        .await;
    let close = (chrono::Utc::now() + chrono::Duration::hours(30)).to_rfc3339();
    let (s, c) = app
        .patch(
            &format!("/api/v1/conferences/{}", f.conference),
            Some(&f.owner.token),
            &json!({"nominations_close_at": close}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    // A second instance on the same database: its sender queues reminders too.
    let mut options = test_options();
    options.mail_dir = app.mail_dir.clone();
    let _second = start_server(&app.db_url, options).await;
    app.mails("fp1@immigration.go.th", "nominations_closing", 1)
        .await;
    app.mails("fp2@moip.gov.mm", "nominations_closing", 1).await;
    // Both instances started their senders; give them time to try again.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let rows = settled(&app).await;
    let reminders: Vec<&String> = rows
        .iter()
        .filter(|r| r.0 == "nominations_closing")
        .map(|r| &r.2)
        .collect();
    assert_eq!(reminders.len(), 2, "{rows:?}");
}
