//! The focal points' portal (`/portal/`) over HTTP, as a browser without JavaScript uses it:
//! cookies kept by hand, forms posted urlencoded or multipart, no redirect followed. The rules
//! are the API's (quotas, deadline, access, audit), the cookie is never a credential of the
//! API, and every form needs its token. The matrices walk the portal's own route table.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;

use crate::credentials::PDF;
use crate::helpers::accreditation::{stored_members, NominationSetup};
use crate::helpers::{spawn_app, TestApp};

const PASSWORD: &str = "a portal password";

/// A browser: a cookie jar and a client that follows no redirect.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// An answer: status, headers, body.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field of the page.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).map(|i| i + marker.len());
        start
            .and_then(|s| {
                self.body[s..]
                    .find('"')
                    .map(|e| self.body[s..s + e].to_string())
            })
            .unwrap_or_default()
    }

    /// The `Location` of a redirect.
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Browser {
            base: app.address.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, self.cookie_header())
        };
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap_or("");
            let pair = set.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = res.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).expect("form");
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    async fn upload(
        &mut self,
        path: &str,
        csrf: &str,
        filename: &str,
        media: &str,
        bytes: &[u8],
    ) -> Page {
        let boundary = "----portaltestboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {media}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    /// Accepts the invitation `code` through the portal's pages: signed in after.
    async fn accept(&mut self, code: &str) -> Page {
        let form = self.get(&format!("/portal/invitation?code={code}")).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains(code), "the code is filled in");
        assert!(
            form.body.contains("This invitation is for"),
            "{}",
            form.body
        );
        let csrf = form.csrf();
        self.post(
            "/portal/invitation",
            &[
                ("code", code),
                ("password", PASSWORD),
                ("name", "Focal Point"),
                ("csrf", &csrf),
            ],
        )
        .await
    }
}

/// A conference with a delegation of Cambodia, its focal point invited (not yet accepted)
/// at `email`; answers the setup and the invitation's code.
async fn invited(app: &TestApp, email: &str) -> (NominationSetup, String) {
    let setup = NominationSetup::new(app, &email.replace('@', "-")).await;
    let (s, body) = app
        .post(
            &format!(
                "/api/v1/conferences/{}/delegations/{}/focal-points",
                setup.conference, setup.delegation
            ),
            Some(&setup.owner.token),
            &json!({"email": email, "name": "Invited Focal Point"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let code = app.invitation_code(email).await;
    (setup, code)
}

/// A focal point invited at `email` who has accepted through the portal, on its delegation's
/// page: the setup, the browser (signed in) and the page's form token.
async fn on_delegation_page(app: &TestApp, email: &str) -> (NominationSetup, Browser, String) {
    let (setup, code) = invited(app, email).await;
    let mut browser = Browser::new(app);
    assert_eq!(browser.accept(&code).await.status, 303);
    let page = browser.get(&delegation_page(&setup)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    (setup, browser, csrf)
}

fn delegation_page(setup: &NominationSetup) -> String {
    format!(
        "/portal/conferences/{}/delegations/{}",
        setup.conference, setup.delegation
    )
}

#[actix_web::test]
async fn a_focal_point_accepts_nominates_within_the_quota_and_uploads_credentials() {
    let app = spawn_app().await;
    let email = "portal.focal@example.org";
    let (setup, code) = invited(&app, email).await;
    setup.quotas(&app, json!({"per_delegation": 2})).await;

    // The invitation e-mail links to the portal's page.
    let mails = app.mails(email, "invitation", 1).await;
    let text = format!("{mails:?}");
    assert!(text.contains("/portal/invitation?code="), "{text}");

    let mut browser = Browser::new(&app);
    let accepted = browser.accept(&code).await;
    assert_eq!(
        (accepted.status, accepted.location()),
        (303, "/portal/"),
        "{}",
        accepted.body
    );
    let set = accepted
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plenary_portal="))
        .unwrap_or("")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/portal/"] {
        assert!(set.contains(attribute), "{set}");
    }

    let home = browser.get("/portal/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    // minijinja escapes `/` in attributes as `&#x2f;`.
    assert!(
        home.body
            .contains(&delegation_page(&setup).replace('/', "&#x2f;")),
        "{}",
        home.body
    );
    assert!(home.body.contains("Cambodia"), "{}", home.body);
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(home.headers.contains_key(header), "{header}");
    }
    assert_eq!(home.headers["cache-control"], "no-store");

    let page = browser.get(&delegation_page(&setup)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Test Conference"));
    assert!(
        page.body.contains("Asia&#x2f;Shanghai"),
        "the zone, escaped"
    );
    let csrf = page.csrf();
    let add = format!("{}/members", delegation_page(&setup));
    for (i, name) in ["Sok Chea", "Chan Dara"].iter().enumerate() {
        let head = if i == 0 { "on" } else { "" };
        let mut form = vec![
            ("full_name", *name),
            ("category", "representative"),
            ("csrf", &csrf),
        ];
        if !head.is_empty() {
            form.push(("is_head", head));
        }
        let done = browser.post(&add, &form).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert!(
            done.location().contains("done=done_member_added"),
            "{}",
            done.location()
        );
    }
    // The third is past the quota: the form says so, with the API's 409.
    let over = browser
        .post(
            &add,
            &[
                ("full_name", "Third Person"),
                ("category", "adviser"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(over.status, 409, "{}", over.body);
    assert!(over.body.contains("quota"), "{}", over.body);
    assert!(
        over.body.contains("Third Person"),
        "the form keeps what was typed"
    );
    // An invalid field is shown next to it (422), nothing stored.
    let bad = browser
        .post(
            &add,
            &[
                ("full_name", "Bad Mail"),
                ("email", "not-an-address"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"new-email-error\""), "{}", bad.body);
    assert_eq!(stored_members(&app, setup.delegation).await, 2);

    // The API sees the nominations, made by the focal point.
    let (s, list) = app.get(&setup.members(), Some(&setup.owner.token)).await;
    assert_eq!(s, 200);
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["nomination_status"].as_str())
        .collect();
    assert_eq!(statuses, ["nominated", "nominated"]);
    let (_, log) = app
        .get(
            &format!("{}/log", setup.conference_path()),
            Some(&setup.owner.token),
        )
        .await;
    let by_focal_point = log["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["actor"]["kind"] == "focal_point")
        .count();
    assert!(by_focal_point >= 2, "{log}");

    // Credentials: not a PDF is refused next to the field; a PDF is submitted.
    let credentials = format!("{}/credentials", delegation_page(&setup));
    let refused = browser
        .upload(
            &credentials,
            &csrf,
            "letter.pdf",
            "application/pdf",
            b"%PDF-1.4\n<html>",
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("credentials-file-error"),
        "{}",
        refused.body
    );
    let submitted = browser
        .upload(&credentials, &csrf, "letter.pdf", "application/pdf", PDF)
        .await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    let (_, current) = app
        .get(
            &format!(
                "/api/v1/conferences/{}/delegations/{}/credentials",
                setup.conference, setup.delegation
            ),
            Some(&setup.owner.token),
        )
        .await;
    assert_eq!(current["status"], "submitted", "{current}");
    let document = browser.get(&format!("{credentials}/document")).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.headers["content-type"], "application/pdf");
    assert_eq!(document.headers["x-content-type-options"], "nosniff");

    // The secretariat decides through the API; the focal point sees the decision and note.
    let first = list["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, _) = app
        .patch(
            &format!("{}/{first}", setup.members()),
            Some(&setup.owner.token),
            &json!({"nomination_status": "rejected", "nomination_note": "Please send the ministry's letter"}),
        )
        .await;
    assert_eq!(s, 200);
    let page = browser.get(&delegation_page(&setup)).await;
    assert!(
        page.body.contains("Please send the ministry&#x27;s letter")
            || page.body.contains("Please send the ministry"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Rejected"), "{}", page.body);
    // A rejected member frees its place: one more fits now.
    let third = browser
        .post(
            &add,
            &[
                ("full_name", "Third Person"),
                ("category", "adviser"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(third.status, 303, "{}", third.body);
}

#[actix_web::test]
async fn the_portal_cookie_is_never_a_credential_of_the_api() {
    let app = spawn_app().await;
    let (_setup, code) = invited(&app, "cookie.focal@example.org").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.accept(&code).await.status, 303);
    // A used code says so before a password is typed.
    let used = browser
        .get(&format!("/portal/invitation?code={code}"))
        .await;
    assert!(used.body.contains("no longer works"), "{}", used.body);
    let session = browser
        .cookies
        .get("plenary_portal")
        .cloned()
        .unwrap_or_default();
    assert_eq!(session.len(), 43);
    let client = reqwest::Client::new();
    let as_cookie = client
        .get(format!("{}/api/v1/me", app.address))
        .header(COOKIE, format!("plenary_portal={session}"))
        .send()
        .await
        .expect("me");
    assert_eq!(as_cookie.status().as_u16(), 401);
    let as_bearer = client
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&session)
        .send()
        .await
        .expect("me");
    assert_eq!(as_bearer.status().as_u16(), 401);
}

#[actix_web::test]
async fn every_portal_form_needs_its_token_and_its_own_origin() {
    let app = spawn_app().await;
    let (setup, mut browser, csrf) = on_delegation_page(&app, "csrf.focal@example.org").await;
    let mut checked = 0;
    for route in plenary::portal::pages_table() {
        if route.method != actix_web::http::Method::POST {
            continue;
        }
        let path = route
            .path
            .replace("{id}", &setup.conference)
            .replace("{delegation_id}", &setup.delegation.to_string())
            .replace("{member_id}", &uuid::Uuid::now_v7().to_string());
        // No token.
        let missing = browser
            .post(
                &path,
                &[("full_name", "Forged"), ("email", "x@example.org")],
            )
            .await;
        // A wrong token.
        let wrong = browser
            .post(
                &path,
                &[
                    ("full_name", "Forged"),
                    ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ],
            )
            .await;
        // The right token from another origin.
        let body = serde_urlencoded::to_string([("full_name", "Forged"), ("csrf", csrf.as_str())])
            .expect("form");
        let other_origin = browser
            .send(
                browser
                    .client
                    .post(format!("{}{path}", browser.base))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header(ORIGIN, "https://evil.example")
                    .body(body),
            )
            .await;
        for (what, answer) in [
            ("missing", &missing),
            ("wrong", &wrong),
            ("origin", &other_origin),
        ] {
            // Multipart targets read the token from the multipart body: a urlencoded body
            // has none, so they refuse it too (403, or 400 for a body that is not multipart).
            assert!(
                [403, 400].contains(&answer.status),
                "{} {path} ({what}): {} {}",
                route.method,
                answer.status,
                answer.body
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
    assert_eq!(stored_members(&app, setup.delegation).await, 0);
    // The session is still there: the forged forms did not sign it out.
    assert_eq!(browser.get("/portal/").await.status, 200);
}

#[actix_web::test]
async fn signed_in_pages_without_a_session_lead_to_the_sign_in_page() {
    let app = spawn_app().await;
    let (setup, _code) = invited(&app, "nosession.focal@example.org").await;
    let mut browser = Browser::new(&app);
    let mut checked = 0;
    for route in plenary::portal::pages_table() {
        if !route.signed_in {
            continue;
        }
        let path = route
            .path
            .replace("{id}", &setup.conference)
            .replace("{delegation_id}", &setup.delegation.to_string())
            .replace("{member_id}", &uuid::Uuid::now_v7().to_string());
        let answer = if route.method == actix_web::http::Method::GET {
            browser.get(&path).await
        } else {
            browser
                .post(&path, &[("full_name", "Anonymous"), ("csrf", "x")])
                .await
        };
        assert_eq!(
            (answer.status, answer.location()),
            (303, "/portal/sign-in"),
            "{} {path}",
            route.method
        );
        checked += 1;
    }
    assert!(checked >= 9, "{checked}");
    assert_eq!(stored_members(&app, setup.delegation).await, 0);
    // Pages before sign-in are open.
    for path in [
        "/portal/sign-in",
        "/portal/invitation",
        "/portal/password-reset",
        "/portal/password-reset/confirm",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("<html lang=\"en\">"), "{path}");
    }
}

#[actix_web::test]
async fn a_focal_point_of_another_delegation_sees_a_refusal_and_changes_nothing() {
    let app = spawn_app().await;
    let (setup, code) = invited(&app, "mine.focal@example.org").await;
    let (other, _) = invited(&app, "other.focal@example.org").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.accept(&code).await.status, 303);
    let own = browser.get(&delegation_page(&setup)).await;
    let csrf = own.csrf();
    let theirs = browser.get(&delegation_page(&other)).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let write = browser
        .post(
            &format!("{}/members", delegation_page(&other)),
            &[("full_name", "Intruder"), ("csrf", &csrf)],
        )
        .await;
    assert!(
        [403, 404].contains(&write.status),
        "{} {}",
        write.status,
        write.body
    );
    assert_eq!(stored_members(&app, other.delegation).await, 0);
}

#[actix_web::test]
async fn sign_in_sign_out_and_a_password_reset_through_the_portal() {
    let app = spawn_app().await;
    let email = "reset.focal@example.org";
    let (_setup, code) = invited(&app, email).await;
    let mut first = Browser::new(&app);
    assert_eq!(first.accept(&code).await.status, 303);

    // Sign out ends the session.
    let home = first.get("/portal/").await;
    let csrf = home.csrf();
    let out = first.post("/portal/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/portal/sign-in"));
    assert_eq!(first.get("/portal/").await.status, 303);

    // A wrong password: the API's one 401, on the form.
    let mut second = Browser::new(&app);
    let form = second.get("/portal/sign-in").await;
    let csrf = form.csrf();
    let wrong = second
        .post(
            "/portal/sign-in",
            &[
                ("email", email),
                ("password", "not the password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(
        wrong.body.contains("wrong email or password"),
        "{}",
        wrong.body
    );
    let right = second
        .post(
            "/portal/sign-in",
            &[("email", email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        (right.status, right.location()),
        (303, "/portal/"),
        "{}",
        right.body
    );
    assert_eq!(second.get("/portal/").await.status, 200);

    // A reset: the e-mail links to the portal's page; the new password ends the old session.
    let mut third = Browser::new(&app);
    let form = third.get("/portal/password-reset").await;
    let csrf = form.csrf();
    let sent = third
        .post(
            "/portal/password-reset",
            &[("email", email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let mails = app.mails(email, "password_reset", 1).await;
    let text = format!("{mails:?}");
    assert!(
        text.contains("/portal/password-reset/confirm?code="),
        "{text}"
    );
    let reset_code = mails[0].code();
    let form = third
        .get(&format!("/portal/password-reset/confirm?code={reset_code}"))
        .await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let short = third
        .post(
            "/portal/password-reset/confirm",
            &[
                ("code", &reset_code),
                ("password", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(short.status, 422, "{}", short.body);
    assert!(
        short.body.contains("id=\"password-error\""),
        "{}",
        short.body
    );
    let done = third
        .post(
            "/portal/password-reset/confirm",
            &[
                ("code", &reset_code),
                ("password", "a brand new portal password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (done.status, done.location()),
        (303, "/portal/"),
        "{}",
        done.body
    );
    assert_eq!(third.get("/portal/").await.status, 200);
    assert_eq!(
        second.get("/portal/").await.status,
        303,
        "the old session ended"
    );
    let (s, _) = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"email": email, "password": "a brand new portal password"}),
        )
        .await;
    assert_eq!(s, 200);
}

#[actix_web::test]
async fn a_spreadsheet_of_nominations_from_the_portal_is_all_or_nothing() {
    let app = spawn_app().await;
    let (setup, mut browser, csrf) = on_delegation_page(&app, "sheet.focal@example.org").await;
    let sheet = format!("{}/members/sheet", delegation_page(&setup));
    let bad = "full_name,category,email\nSok Chea,representative,sok@example.org\nChan Dara,representative,not-an-address\n";
    let refused = browser
        .upload(&sheet, &csrf, "nominations.csv", "text/csv", bad.as_bytes())
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("row 3") || refused.body.contains("row 2"),
        "{}",
        refused.body
    );
    assert_eq!(stored_members(&app, setup.delegation).await, 0);
    let good = "full_name,category\nSok Chea,representative\nChan Dara,adviser\n";
    let done = browser
        .upload(
            &sheet,
            &csrf,
            "nominations.csv",
            "text/csv",
            good.as_bytes(),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(stored_members(&app, setup.delegation).await, 2);
}

#[actix_web::test]
async fn a_form_sent_twice_writes_once_and_a_refused_one_may_be_sent_again() {
    let app = spawn_app().await;
    let (setup, mut browser, csrf) = on_delegation_page(&app, "twice.focal@example.org").await;
    let page = browser.get(&delegation_page(&setup)).await;
    let marker = "name=\"form_key\" value=\"";
    let start = page
        .body
        .find(marker)
        .map(|i| i + marker.len())
        .unwrap_or(0);
    let key = page.body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(key.len(), 43, "each form carries a fresh key");
    let add = format!("{}/members", delegation_page(&setup));
    // Refused first (an invalid e-mail): the key is let go ...
    let refused = browser
        .post(
            &add,
            &[
                ("full_name", "Sok Chea"),
                ("email", "nope"),
                ("csrf", &csrf),
                ("form_key", &key),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    // ... so the corrected form goes through with it, once, however often it is sent.
    let form = [
        ("full_name", "Sok Chea"),
        ("csrf", csrf.as_str()),
        ("form_key", key.as_str()),
    ];
    let first = browser.post(&add, &form).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let again = browser.post(&add, &form).await;
    assert_eq!(
        (again.status, again.location()),
        (303, first.location()),
        "{}",
        again.body
    );
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(stored_members(&app, setup.delegation).await, 1);
    // The same key with another form is refused, and writes nothing.
    let other = browser
        .post(
            &add,
            &[
                ("full_name", "Chan Dara"),
                ("csrf", &csrf),
                ("form_key", &key),
            ],
        )
        .await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(stored_members(&app, setup.delegation).await, 1);
}

#[actix_web::test]
async fn errors_under_the_portal_are_pages_never_problem_json() {
    let app = spawn_app().await;
    let (setup, mut browser, csrf) = on_delegation_page(&app, "pages.focal@example.org").await;
    let is_page = |p: &Page| {
        p.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    };
    // A file over the limit, refused before any handler ran.
    let big = vec![b'x'; 6 << 20];
    let too_large = browser
        .upload(
            &format!("{}/credentials", delegation_page(&setup)),
            &csrf,
            "letter.pdf",
            "application/pdf",
            &big,
        )
        .await;
    assert_eq!(too_large.status, 413);
    assert!(is_page(&too_large), "{}", too_large.body);
    assert!(too_large.body.contains("5 MiB"), "{}", too_large.body);
    // An unknown address, and a method an address does not take.
    for path in ["/portal/no-such-page", "/portal/sign-in/"] {
        let missing = browser.get(path).await;
        assert_eq!(missing.status, 404, "{path}");
        assert!(is_page(&missing), "{path}: {}", missing.body);
    }
    // The address bar left on a form's target leads back to the form's page.
    for target in ["/members", "/members/sheet", "/credentials"] {
        let again = browser
            .get(&format!("{}{target}", delegation_page(&setup)))
            .await;
        assert_eq!(
            (again.status, again.location()),
            (303, delegation_page(&setup).as_str()),
            "{target}"
        );
    }
    assert_eq!(browser.get("/portal/sign-out").await.location(), "/portal/");
    // A body that is not a file upload, sent to an upload's target.
    let not_multipart = browser
        .post(
            &format!("{}/members/sheet", delegation_page(&setup)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(not_multipart.status, 400);
    assert!(is_page(&not_multipart));
    assert!(
        not_multipart.body.contains("multipart/form-data"),
        "{}",
        not_multipart.body
    );
}

#[actix_web::test]
async fn an_emptied_name_is_refused_on_the_change_form_and_changes_nothing() {
    let app = spawn_app().await;
    let (setup, mut browser, csrf) = on_delegation_page(&app, "rename.focal@example.org").await;
    let add = format!("{}/members", delegation_page(&setup));
    let done = browser
        .post(&add, &[("full_name", "Sok Chea"), ("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 303);
    let (_, list) = app.get(&setup.members(), Some(&setup.owner.token)).await;
    let id = list["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let member = format!("{}/members/{id}", delegation_page(&setup));
    let form = browser.get(&member).await;
    let csrf = form.csrf();
    let emptied = browser
        .post(&member, &[("full_name", "   "), ("csrf", &csrf)])
        .await;
    assert_eq!(emptied.status, 422, "{}", emptied.body);
    assert!(
        emptied.body.contains("id=\"full_name-error\""),
        "{}",
        emptied.body
    );
    let (_, list) = app.get(&setup.members(), Some(&setup.owner.token)).await;
    assert_eq!(list["items"][0]["full_name"], "Sok Chea");
}

#[actix_web::test]
async fn failed_sign_ins_do_not_block_the_password_reset() {
    let mut options = crate::helpers::test_options();
    options.login_limits.per_email = 3;
    let app = crate::helpers::spawn_app_with(options).await;
    let email = "locked.focal@example.org";
    let (_setup, code) = invited(&app, email).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.accept(&code).await.status, 303);
    let mut other = Browser::new(&app);
    let form = other.get("/portal/sign-in").await;
    let csrf = form.csrf();
    for _ in 0..3 {
        let wrong = other
            .post(
                "/portal/sign-in",
                &[
                    ("email", email),
                    ("password", "a wrong password"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(wrong.status, 401);
    }
    let locked = other
        .post(
            "/portal/sign-in",
            &[("email", email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    // The reset is counted on its own: the locked-out user can still ask for one.
    let sent = other
        .post(
            "/portal/password-reset",
            &[("email", email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(app.mails(email, "password_reset", 1).await.len(), 1);
}

#[actix_web::test]
async fn a_category_quota_and_a_second_head_are_shown_at_their_fields() {
    let app = spawn_app().await;
    let (setup, code) = invited(&app, "fields.focal@example.org").await;
    setup.quotas(&app, json!({"adviser": 1})).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.accept(&code).await.status, 303);
    let page = browser.get(&delegation_page(&setup)).await;
    let csrf = page.csrf();
    let add = format!("{}/members", delegation_page(&setup));
    let first = browser
        .post(
            &add,
            &[
                ("full_name", "Keo Sophal"),
                ("category", "adviser"),
                ("is_head", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(first.status, 303, "{}", first.body);
    let adviser = browser
        .post(
            &add,
            &[
                ("full_name", "Lim Bopha"),
                ("category", "adviser"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(adviser.status, 409);
    assert!(
        adviser.body.contains("id=\"new-category-error\""),
        "{}",
        adviser.body
    );
    assert!(
        adviser.body.contains("no adviser place left"),
        "{}",
        adviser.body
    );
    let head = browser
        .post(
            &add,
            &[
                ("full_name", "Chan Dara"),
                ("category", "expert"),
                ("is_head", "on"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(head.status, 409, "{}", head.body);
    assert!(
        head.body.contains("id=\"new-is_head-error\""),
        "{}",
        head.body
    );
    assert_eq!(stored_members(&app, setup.delegation).await, 1);
}
