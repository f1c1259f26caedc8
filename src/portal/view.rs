//! The portal's pages: minijinja templates (`templates/portal/*.html`, compiled in, HTML
//! auto-escaping on) and the words they show, all in one file per language
//! (`templates/portal/<lang>.json`, every one compiled in by `build.rs`: a second language
//! is a second file, chosen with `PLENARY_PORTAL_LANGUAGE`; English, `en.json`, is the
//! default and fills any gap of a translation).
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

/// The language used when `PLENARY_PORTAL_LANGUAGE` is unset (and for any string a
/// translation lacks).
pub const DEFAULT_LANGUAGE: &str = "en";

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/portal_languages.rs"));
}

/// The languages compiled in: one per `templates/portal/<lang>.json`.
pub fn languages() -> Vec<&'static str> {
    compiled::LANGUAGES.iter().map(|(lang, _)| *lang).collect()
}

/// The language of the pages, chosen once at start ([`choose_language`]).
static CHOSEN: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Chooses the pages' language (`PLENARY_PORTAL_LANGUAGE`): one of [`languages`]. A second
/// call keeps the first choice. Errors: a language with no strings file.
pub fn choose_language(lang: &str) -> Result<(), String> {
    let Some(found) = languages().into_iter().find(|l| *l == lang) else {
        return Err(format!(
            "PLENARY_PORTAL_LANGUAGE must name a strings file of templates/portal/ ({}), not {lang:?}",
            languages().join(", ")
        ));
    };
    let _ = CHOSEN.set(found);
    Ok(())
}

/// The pages' language.
fn language() -> &'static str {
    CHOSEN.get().copied().unwrap_or(DEFAULT_LANGUAGE)
}

/// The words of every language compiled in, parsed once.
static STRINGS: LazyLock<Vec<(&'static str, Value)>> = LazyLock::new(|| {
    compiled::LANGUAGES
        .iter()
        .map(|(lang, source)| (*lang, serde_json::from_str(source).unwrap_or(Value::Null)))
        .collect()
});

/// The strings of `lang` (null when it has none).
fn strings_of(lang: &str) -> &'static Value {
    static NONE: Value = Value::Null;
    STRINGS
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or(&NONE, |(_, v)| v)
}

/// The string `key` in the pages' language, else in [`DEFAULT_LANGUAGE`], else the key
/// itself (so a gap shows).
pub fn text(key: &str) -> String {
    [language(), DEFAULT_LANGUAGE]
        .iter()
        .find_map(|lang| strings_of(lang).get(key).and_then(Value::as_str))
        .unwrap_or(key)
        .to_string()
}

/// Every string of the pages, in the pages' language, with [`DEFAULT_LANGUAGE`]'s for any
/// the translation lacks (what templates read as `t`).
fn all_strings() -> Value {
    let mut all = strings_of(DEFAULT_LANGUAGE).clone();
    if let (Some(base), Some(chosen)) = (all.as_object_mut(), strings_of(language()).as_object()) {
        for (k, v) in chosen {
            base.insert(k.clone(), v.clone());
        }
    }
    all
}

/// The templates, built once. Lenient about undefined values (`Chainable`): a page's
/// optional parts (a form's errors, a flash) may be absent; the tests check what each page
/// shows.
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
        map.insert("t".into(), all_strings());
        map.insert("lang".into(), language().into());
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
        for (lang, strings) in STRINGS.iter() {
            let map = strings.as_object();
            assert!(
                map.is_some_and(|m| m.values().all(Value::is_string)),
                "{lang}"
            );
            // A translation says nothing English does not: a key of its own is a typo.
            let english = strings_of(DEFAULT_LANGUAGE).as_object();
            for key in map.into_iter().flat_map(|m| m.keys()) {
                assert!(
                    english.is_some_and(|e| e.contains_key(key)),
                    "{lang}: {key}"
                );
            }
        }
        assert!(languages().contains(&DEFAULT_LANGUAGE));
        assert!(choose_language("xx").is_err());
        assert_eq!(text("sign_in"), "Sign in");
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
