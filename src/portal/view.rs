//! The portal's pages: minijinja templates (`templates/portal/*.html`, compiled in, HTML
//! auto-escaping on) and the words they show, all in one file per language
//! (`templates/portal/en.json`: a second language is a second file, not a fork).
//!
//! Every page is sent with [`CONTENT_SECURITY_POLICY`] (the List of Participants' policy,
//! except that forms may post to the portal itself), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: same-origin` (links carry one-time codes, which must not leave in a `Referer`; `no-referrer` would also make browsers send `Origin: null` on the portal's own forms) and `Cache-Control: no-store`.

use std::sync::LazyLock;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::error::ApiError;

/// The pages' `Content-Security-Policy`: nothing loads but inline styles; forms post only to
/// the portal's own origin; no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The language of the pages (`lang` of every page, and the strings file).
pub const LANGUAGE: &str = "en";

/// The templates, built once. Strict about undefined values: a template naming a value its
/// page lacks fails in the tests instead of showing nothing.
static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, source) in [
        (
            "base.html",
            include_str!("../../templates/portal/base.html"),
        ),
        (
            "sign_in.html",
            include_str!("../../templates/portal/sign_in.html"),
        ),
        (
            "invitation.html",
            include_str!("../../templates/portal/invitation.html"),
        ),
        (
            "reset.html",
            include_str!("../../templates/portal/reset.html"),
        ),
        (
            "reset_confirm.html",
            include_str!("../../templates/portal/reset_confirm.html"),
        ),
        (
            "home.html",
            include_str!("../../templates/portal/home.html"),
        ),
        (
            "delegation.html",
            include_str!("../../templates/portal/delegation.html"),
        ),
        (
            "member.html",
            include_str!("../../templates/portal/member.html"),
        ),
        (
            "notice.html",
            include_str!("../../templates/portal/notice.html"),
        ),
        (
            "macros.html",
            include_str!("../../templates/portal/macros.html"),
        ),
    ] {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// The words of the pages in [`LANGUAGE`]: `templates/portal/en.json`, an object of strings.
static STRINGS: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../templates/portal/en.json")).unwrap_or(Value::Null)
});

/// The string `key` of the strings file (the key itself when missing, so a gap shows).
pub fn text(key: &str) -> String {
    STRINGS
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_string()
}

/// Renders `template` with `page` (an object; `t`, the strings, and `lang` are added) as a
/// complete page with `status` and the portal's headers, setting `cookies`.
///
/// Errors: 500 when the template fails (a bug).
pub fn page(
    status: StatusCode,
    template: &str,
    mut page: Value,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    if let Some(map) = page.as_object_mut() {
        map.insert("t".into(), STRINGS.clone());
        map.insert("lang".into(), LANGUAGE.into());
    }
    let env = TEMPLATES.as_ref().map_err(ApiError::internal)?;
    let html = env
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&page)))
        .map_err(ApiError::internal)?;
    let mut res = HttpResponse::build(status);
    headers(&mut res);
    for c in cookies {
        res.cookie(c);
    }
    Ok(res
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(html))
}

/// The headers of every portal answer.
fn headers(res: &mut actix_web::HttpResponseBuilder) {
    res.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

/// `303 See Other` to `location` (after a form: the browser GETs the page, so a reload does
/// not send the form again), setting `cookies`.
pub fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    headers(&mut res);
    for c in cookies {
        res.cookie(c);
    }
    res.insert_header((header::LOCATION, location)).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_and_every_string_is_text() {
        assert!(STRINGS
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string)));
        for name in [
            "sign_in.html",
            "invitation.html",
            "reset.html",
            "reset_confirm.html",
            "home.html",
            "delegation.html",
            "member.html",
            "notice.html",
        ] {
            let res = page(StatusCode::OK, name, serde_json::json!({}), Vec::new());
            assert!(res.is_ok(), "{name}: {:?}", res.err());
        }
    }
}
