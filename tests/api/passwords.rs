//! Passwords (API.md "Accreditation", Passwords): a reset by e-mail, a change, the tokens they
//! end; and unverified accounts (codes handed out in responses) that receive no grants until
//! a reset proves their address, tested as a matrix of how an account came to exist and how
//! a grant reaches it.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id, spawn_app, spawn_app_with, test_options, TestApp, PASSWORD, SECRET};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A token for `sub` issued at `iat`, signed like the server's.
fn token_at(sub: Uuid, iat: i64) -> String {
    let claims =
        json!({"iss": "plenary", "aud": "plenary-api", "sub": sub, "iat": iat, "exp": iat + 600});
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode")
}

/// Asks for a reset of `email` (202) and returns the code of the `n`th reset e-mail to it.
async fn reset_code(app: &TestApp, email: &str, n: usize) -> String {
    let (s, body) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            &json!({ "email": email }),
        )
        .await;
    assert_eq!((s, &body), (202, &Value::Null));
    let mails = app.mails(email, "password_reset", n).await;
    let newest = mails
        .iter()
        .max_by_key(|m| m.header("message-id").map(str::to_string))
        .map(crate::helpers::mail::Mail::code)
        .unwrap_or_default();
    assert!(newest.len() >= 43, "{mails:?}");
    newest
}

/// Confirms a reset: (status, body).
async fn confirm(app: &TestApp, code: &str, password: &str) -> (u16, Value) {
    app.post(
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({"code": code, "password": password}),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    app.post(
        "/api/v1/auth/token",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.0
}

/// The account row's `tokens_valid_after` and `email_verified`.
async fn account_state(
    app: &TestApp,
    email: &str,
) -> (Option<chrono::DateTime<chrono::Utc>>, bool) {
    use plenary::db::schema::organisers::dsl as o;
    let mut conn = app.conn().await;
    o::organisers
        .filter(o::email.eq(email))
        .select((o::tokens_valid_after, o::email_verified))
        .first(&mut conn)
        .await
        .expect("account")
}

#[actix_web::test]
async fn a_reset_sets_the_password_and_ends_every_older_token() {
    let app = spawn_app().await;
    let email = "reset.me@example.org";
    let o = app.organiser(email, false).await;
    assert_eq!(me_status(&app, &o.token).await, 200);

    let code = reset_code(&app, email, 1).await;
    let mail = app.mails(email, "password_reset", 1).await.remove(0);
    assert!(mail.text.contains("UTC"), "{}", mail.text);
    // A short password is 422 and leaves the code usable; an unknown code is 401.
    assert_eq!(confirm(&app, &code, "short").await.0, 422);
    let (s, wrong) = confirm(&app, "not-a-real-code-at-all", NEW_PASSWORD).await;
    assert_eq!(s, 401, "{wrong}");

    // A token issued just before the reset (most likely in its very second).
    let just_before = app.tokens.issue(o.id).expect("token");
    let (s, body) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!(s, 200, "{body}");
    let fresh = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(me_status(&app, &fresh).await, 200);
    assert_eq!(me_status(&app, &o.token).await, 401);
    assert_eq!(me_status(&app, &just_before).await, 401);

    // The second of the reset: a token of that second is refused, one of the next accepted.
    let (valid_after, verified) = account_state(&app, email).await;
    assert!(verified);
    let t = valid_after.expect("tokens_valid_after set").timestamp();
    assert_eq!(me_status(&app, &token_at(o.id, t)).await, 401);
    assert_eq!(me_status(&app, &token_at(o.id, t - 1)).await, 401);
    assert_eq!(me_status(&app, &token_at(o.id, t + 1)).await, 200);

    // The code works once; the old password no longer, the new one does, and a login right
    // after the reset (even in its second) gets a token that works.
    let (s, again) = confirm(&app, &code, NEW_PASSWORD).await;
    assert_eq!((s, &again["detail"]), (401, &wrong["detail"]));
    assert_eq!(login(&app, email, PASSWORD).await.0, 401);
    let (s, body) = login(&app, email, NEW_PASSWORD).await;
    assert_eq!(s, 200);
    assert_eq!(
        me_status(&app, body["access_token"].as_str().unwrap_or_default()).await,
        200
    );
}

#[actix_web::test]
async fn a_reset_is_the_same_answer_for_unknown_and_disabled_emails_and_sends_nothing() {
    let app = spawn_app().await;
    let o = app.organiser("known@example.org", false).await;
    let disabled = app.organiser("disabled@example.org", false).await;
    {
        use plenary::db::schema::organisers::dsl as a;
        let mut conn = app.conn().await;
        diesel::update(a::organisers.filter(a::id.eq(disabled.id)))
            .set(a::disabled_at.eq(Some(chrono::Utc::now())))
            .execute(&mut conn)
            .await
            .expect("disable");
    }
    for email in [
        "nobody@example.org",
        "disabled@example.org",
        "KNOWN@example.org",
    ] {
        let r = app
            .request(
                Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(&json!({ "email": email })),
            )
            .await;
        assert_eq!(r.status().as_u16(), 202, "{email}");
        assert!(r.body().is_empty(), "{email}");
    }
    // Only the known, active account got a code (the email compared regardless of case).
    app.mails("known@example.org", "password_reset", 1).await;
    let resets: Vec<(
        Uuid,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    )> = {
        use plenary::db::schema::password_resets::dsl as p;
        let mut conn = app.conn().await;
        p::password_resets
            .select((p::organiser_id, p::expires_at, p::created_at))
            .load(&mut conn)
            .await
            .expect("resets")
    };
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].0, o.id);
    let ttl = resets[0].1 - resets[0].2;
    assert!(
        ttl <= chrono::Duration::minutes(60) && ttl > chrono::Duration::minutes(59),
        "{ttl}"
    );
    // Invalid emails are 422, mixed scripts included.
    for email in ["not an email", "b\u{43e}b@example.org"] {
        let (s, _) = app
            .post(
                "/api/v1/auth/password-reset",
                None,
                &json!({ "email": email }),
            )
            .await;
        assert_eq!(s, 422, "{email}");
    }
    // A disabled account's code (asked before it was disabled) does not work either.
    let code = reset_code(&app, "known@example.org", 2).await;
    {
        use plenary::db::schema::organisers::dsl as a;
        let mut conn = app.conn().await;
        diesel::update(a::organisers.filter(a::id.eq(o.id)))
            .set(a::disabled_at.eq(Some(chrono::Utc::now())))
            .execute(&mut conn)
            .await
            .expect("disable");
    }
    assert_eq!(confirm(&app, &code, NEW_PASSWORD).await.0, 401);
}

#[actix_web::test]
async fn a_reset_spends_every_open_code_of_the_account() {
    let app = spawn_app().await;
    let email = "two.codes@example.org";
    app.organiser(email, false).await;
    let first = reset_code(&app, email, 1).await;
    let second = reset_code(&app, email, 2).await;
    assert_ne!(first, second);
    assert_eq!(confirm(&app, &second, NEW_PASSWORD).await.0, 200);
    assert_eq!(confirm(&app, &first, "yet another passphrase").await.0, 401);
    assert_eq!(login(&app, email, NEW_PASSWORD).await.0, 200);
}

#[actix_web::test]
async fn resets_and_confirmations_are_rate_limited_like_logins() {
    let mut options = test_options();
    options.login_limits.per_email = 3;
    let app = spawn_app_with(options).await;
    app.organiser("limited@example.org", false).await;
    // Every request counts, whether or not the account exists: the 429 tells nothing.
    for email in ["limited@example.org", "unknown@example.org"] {
        for _ in 0..3 {
            let (s, _) = app
                .post(
                    "/api/v1/auth/password-reset",
                    None,
                    &json!({ "email": email }),
                )
                .await;
            assert_eq!(s, 202, "{email}");
        }
        let r = app
            .request(
                Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(&json!({ "email": email })),
            )
            .await;
        assert_eq!(r.status().as_u16(), 429, "{email}");
        assert!(r.headers().get("retry-after").is_some());
    }
    // Wrong codes: three refusals, then 429.
    for _ in 0..3 {
        assert_eq!(confirm(&app, "guessed-code", NEW_PASSWORD).await.0, 401);
    }
    assert_eq!(confirm(&app, "guessed-code", NEW_PASSWORD).await.0, 429);
}

#[actix_web::test]
async fn a_change_ends_every_token_the_callers_own_included() {
    let mut options = test_options();
    options.login_limits.per_email = 3;
    let app = spawn_app_with(options).await;
    let email = "changer@example.org";
    let o = app.organiser(email, false).await;
    let other_session = login(&app, email, PASSWORD).await.1["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = "/api/v1/auth/password";
    let body = json!({"current_password": PASSWORD, "password": NEW_PASSWORD});
    assert_eq!(app.post(path, None, &body).await.0, 401);
    let (s, _) = app
        .post(path, Some(&o.token), &json!({"current_password": PASSWORD}))
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .post(
            path,
            Some(&o.token),
            &json!({"current_password": PASSWORD, "password": "short"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .post(
            path,
            Some(&o.token),
            &json!({"current_password": PASSWORD, "password": NEW_PASSWORD, "extra": 1}),
        )
        .await;
    assert_eq!(s, 422);
    let wrong = json!({"current_password": "not my password", "password": NEW_PASSWORD});
    let (s, problem) = app.post(path, Some(&o.token), &wrong).await;
    assert_eq!(s, 403, "{problem}");
    assert_eq!(me_status(&app, &o.token).await, 200);

    let (s, answer) = app.post(path, Some(&o.token), &body).await;
    assert_eq!((s, &answer), (204, &Value::Null));
    assert_eq!(me_status(&app, &o.token).await, 401);
    assert_eq!(me_status(&app, &other_session).await, 401);
    assert_eq!(login(&app, email, PASSWORD).await.0, 401);
    let (s, body) = login(&app, email, NEW_PASSWORD).await;
    assert_eq!(s, 200);
    let token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(me_status(&app, &token).await, 200);
    // Wrong current passwords are limited like logins.
    for _ in 0..3 {
        assert_eq!(app.post(path, Some(&token), &wrong).await.0, 403);
    }
    assert_eq!(app.post(path, Some(&token), &wrong).await.0, 429);
}

#[actix_web::test]
async fn a_focal_point_who_forgot_the_password_resets_it_and_accepts_a_new_invitation() {
    let app = spawn_app().await;
    let email = "forgetful@mofa.gov.kh";
    let f = app
        .fixture()
        .delegation("KH")
        .focal_point(email)
        .delegation("LA")
        .build()
        .await;
    let (s, invited) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(1)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Forgetful"}),
        )
        .await;
    assert_eq!(s, 201, "{invited}");
    let invitation = app.invitation_code(email).await;
    let accept =
        |password: &str| json!({"code": invitation.clone(), "password": password.to_string()});
    // The existing account's password is forgotten: the invitation cannot be accepted.
    let (s, _) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &accept("a guess at my old password"),
        )
        .await;
    assert_eq!(s, 401);
    let code = reset_code(&app, email, 1).await;
    assert_eq!(confirm(&app, &code, NEW_PASSWORD).await.0, 200);
    let (s, body) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &accept(NEW_PASSWORD),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, me) = app.get("/api/v1/me", body["access_token"].as_str()).await;
    assert_eq!(s, 200);
    assert_eq!(
        me["focal_point_of"].as_array().map(Vec::len),
        Some(2),
        "{me}"
    );
}

#[actix_web::test]
async fn emails_that_mix_scripts_are_refused_wherever_they_are_input() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("KH").build().await;
    let mixed = "s\u{43e}khom@mofa.gov.la";
    let (s, body) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": mixed, "name": "Sokhom"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = app
        .post(
            &format!("/api/v1/conferences/{}/organisers", f.conference),
            Some(&f.owner.token),
            &json!({"email": mixed, "role": "editor"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let cli = plenary::cli::add_organiser(
        &app.db_url,
        mixed,
        "Sokhom",
        false,
        SecretString::from(PASSWORD.to_string()),
    )
    .await;
    assert!(cli.is_err());
    // The probe's look-alike (a Cyrillic "о" opening `org1@example.org`), and a member's
    // e-mail, on create and change.
    let members = format!("{}/members", f.delegation_path(0));
    for email in [mixed, "\u{43e}rg1@example.org"] {
        let (s, body) = app
            .post(
                &members,
                Some(&f.owner.token),
                &json!({"full_name": "Sokhom", "email": email}),
            )
            .await;
        assert_eq!(s, 422, "{email}: {body}");
        let (s, body) = app
            .post(
                &format!("{}/focal-points", f.delegation_path(0)),
                Some(&f.owner.token),
                &json!({"email": email, "name": "Org One"}),
            )
            .await;
        assert_eq!(s, 422, "{email}: {body}");
    }
    let (s, member) = app
        .post(
            &members,
            Some(&f.owner.token),
            &json!({"full_name": "Sokhom"}),
        )
        .await;
    assert_eq!(s, 201, "{member}");
    let (s, body) = app
        .patch(
            &format!("{members}/{}", member["id"].as_str().unwrap_or_default()),
            Some(&f.owner.token),
            &json!({"email": "\u{43e}rg1@example.org"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    // One script per part is fine (an all-Cyrillic address).
    let (s, body) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": "иван@пример.рф", "name": "Иван"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
}

/// How an account came to exist, in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `plenary organiser add`.
    Cli,
    /// An invitation accepted from the code of the e-mail (codes not in responses).
    EmailedCode,
    /// An invitation accepted from a code handed out in the response.
    CodeInResponse,
    /// As [`Origin::CodeInResponse`], then a password reset by e-mail.
    CodeInResponseThenReset,
    /// As [`Origin::CodeInResponse`], then `plenary organiser add` on its address.
    CodeInResponseThenCli,
}

/// Makes the account `email` as `origin` says (the invitations to delegation 0 of `f`);
/// answers a password that signs in to it.
async fn make_account(
    app: &TestApp,
    f: &crate::helpers::Fixture,
    email: &str,
    origin: Origin,
) -> String {
    if origin == Origin::Cli {
        let done = plenary::cli::add_organiser(
            &app.db_url,
            email,
            "Cli Organiser",
            false,
            SecretString::from(PASSWORD.to_string()),
        )
        .await
        .expect("organiser add");
        assert!(done.contains("created"), "{done}");
        return PASSWORD.to_string();
    }
    let (s, invited) = app
        .post(
            &format!("{}/focal-points", f.delegation_path(0)),
            Some(&f.owner.token),
            &json!({"email": email, "name": "Invited"}),
        )
        .await;
    assert_eq!(s, 201, "{invited}");
    let code = match origin {
        Origin::EmailedCode => {
            assert_eq!(invited["invitation_code"], Value::Null);
            app.invitation_code(email).await
        }
        _ => invited["invitation_code"]
            .as_str()
            .expect("the code in the response")
            .to_string(),
    };
    let (s, body) = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            &json!({"code": code, "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let verified = account_state(app, email).await.1;
    assert_eq!(verified, origin == Origin::EmailedCode, "{origin:?}");
    match origin {
        Origin::CodeInResponseThenReset => {
            let code = reset_code(app, email, 1).await;
            assert_eq!(confirm(app, &code, NEW_PASSWORD).await.0, 200);
            NEW_PASSWORD.to_string()
        }
        Origin::CodeInResponseThenCli => {
            let old_token = body["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let done = plenary::cli::add_organiser(
                &app.db_url,
                email,
                "Ignored Name",
                false,
                SecretString::from(NEW_PASSWORD.to_string()),
            )
            .await
            .expect("organiser add");
            assert!(done.contains("made an organiser"), "{done}");
            // Unverified: the password is the operator's now, and the squatter's token ends.
            assert_eq!(me_status(app, &old_token).await, 401);
            assert_eq!(login(app, email, PASSWORD).await.0, 401);
            NEW_PASSWORD.to_string()
        }
        _ => PASSWORD.to_string(),
    }
}

/// Every origin of an account x every role `POST .../organisers` grants: who ends up with
/// the grant (`expected`: the origins whose accounts are verified).
async fn grant_matrix(app: &TestApp, origins: &[Origin], expected: &[Origin]) {
    let f = app.fixture().delegation("KH").build().await;
    let mut accounts = Vec::new();
    for (i, origin) in origins.iter().enumerate() {
        let email = format!("account{i}@example.org");
        let password = make_account(app, &f, &email, *origin).await;
        assert_eq!(login(app, &email, &password).await.0, 200, "{origin:?}");
        accounts.push((email, *origin));
    }
    for role in ["owner", "editor", "check_in"] {
        let conference = id(&app.conference(&f.owner, "published").await);
        let path = format!("/api/v1/conferences/{conference}/organisers");
        let mut unknown_role = false;
        for (email, _) in &accounts {
            let (s, body) = app
                .post(
                    &path,
                    Some(&f.owner.token),
                    &json!({"email": email, "role": role}),
                )
                .await;
            // `check_in` (door staff, API.md "Badges") joins the matrix once the server
            // knows the role; until then it is refused as an unknown role.
            if role == "check_in" && s == 422 && body.to_string().contains("must be one of") {
                unknown_role = true;
                continue;
            }
            assert_eq!(s, 202, "{body}");
            assert_eq!(body, json!({"email": email, "role": role}));
        }
        let (s, list) = app.get(&path, Some(&f.owner.token)).await;
        if unknown_role {
            eprintln!("the role {role} is not known to this server: skipped");
            continue;
        }
        assert_eq!(s, 200, "{list}");
        for (email, origin) in &accounts {
            let granted = list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["email"] == *email.as_str() && o["role"] == role);
            assert_eq!(
                granted,
                expected.contains(origin),
                "{origin:?} as {role}: {list}"
            );
        }
    }
}

#[actix_web::test]
async fn without_codes_in_responses_every_account_receives_grants() {
    let app = spawn_app().await;
    let origins = [Origin::Cli, Origin::EmailedCode];
    grant_matrix(&app, &origins, &origins).await;
}

#[actix_web::test]
async fn accounts_from_codes_in_responses_receive_grants_only_once_their_address_is_proven() {
    let mut options = test_options();
    options.notify.invitation_codes_in_response = true;
    let app = spawn_app_with(options).await;
    grant_matrix(
        &app,
        &[
            Origin::Cli,
            Origin::CodeInResponse,
            Origin::CodeInResponseThenReset,
            Origin::CodeInResponseThenCli,
        ],
        &[
            Origin::Cli,
            Origin::CodeInResponseThenReset,
            Origin::CodeInResponseThenCli,
        ],
    )
    .await;
}

#[actix_web::test]
async fn organiser_add_on_a_verified_account_keeps_its_password_and_sessions() {
    let app = spawn_app().await;
    let f = app.fixture().delegation("KH").build().await;
    let email = "focal.to.organiser@example.org";
    make_account(&app, &f, email, Origin::EmailedCode).await;
    let (_, body) = login(&app, email, PASSWORD).await;
    let token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me["is_organiser"], false);
    let done = plenary::cli::add_organiser(
        &app.db_url,
        &email.to_uppercase(),
        "Other Name",
        false,
        SecretString::from(NEW_PASSWORD.to_string()),
    )
    .await
    .expect("organiser add");
    assert!(done.contains("unchanged"), "{done}");
    let (s, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(
        (me["is_organiser"].as_bool(), me["name"].as_str()),
        (Some(true), Some("Invited"))
    );
    assert_eq!(login(&app, email, PASSWORD).await.0, 200);
    assert_eq!(login(&app, email, NEW_PASSWORD).await.0, 401);
    // It may now create conferences.
    let (s, _) = app
        .post(
            "/api/v1/organisations",
            Some(&token),
            &json!({"name": "Ministry of Planning", "kind": "government_agency"}),
        )
        .await;
    assert_eq!(s, 201);
}
