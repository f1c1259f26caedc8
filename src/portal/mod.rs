//! The focal points' portal under `/portal/` (API.md "Accreditation"): web pages for the
//! officials who nominate their delegations, so that nobody needs curl. Server-rendered HTML
//! that works without JavaScript: accept an invitation (the link of the invitation e-mail),
//! sign in and out, reset a forgotten password, and for each delegation the account is a
//! focal point of: the conference (dates, the nominations deadline in its IANA time zone,
//! quotas and places left), the members with their nomination status and the secretariat's
//! note, adding, changing and removing a member, a spreadsheet of nominations, and the
//! letter of credentials with its review.
//!
//! One path for every rule: the handlers ([`pages`]) call the flows and store functions the
//! API calls, so quotas, the deadline, access, audit and errors are the API's, shown on the
//! form next to the field they name. Sessions and CSRF: [`session`]. Pages and words:
//! [`view`] (`templates/portal/`).
//!
//! [`pages_table`] is the portal's route table; [`configure`] registers it. These pages are
//! not part of the API's contract (`api-spec/openapi.yaml`): they answer HTML, and the API
//! never accepts their cookie.

pub mod errors;
pub mod pages;
pub mod session;
pub mod view;

use actix_web::http::Method;
use actix_web::{web, Route};

/// One page or form target of the portal.
pub struct PortalRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path, `{name}` for one segment.
    pub path: &'static str,
    /// Whether it needs a signed-in session (else it is a page shown before sign-in).
    pub signed_in: bool,
    route: fn() -> Route,
}

/// `portal!(GET "/portal/x", signed_in => handler)`.
macro_rules! portal {
    ($method:ident $path:literal, $signed:expr => $handler:path) => {
        PortalRoute {
            method: Method::$method,
            path: $path,
            signed_in: $signed,
            route: || web::route().method(Method::$method).to($handler),
        }
    };
}

/// Every route of the portal. The security tests walk this table: every `POST` without its
/// form token is 403 and changes nothing; every signed-in route without a session redirects
/// to the sign-in page. A `GET` of a form's target (the address bar after a refused form,
/// reloaded or bookmarked) leads back to the page of that form ([`pages::back`]).
pub fn pages_table() -> Vec<PortalRoute> {
    vec![
        portal!(GET "/portal/", true => pages::home),
        portal!(GET "/portal/sign-in", false => pages::sign_in_form),
        portal!(POST "/portal/sign-in", false => pages::sign_in),
        portal!(POST "/portal/sign-out", true => pages::sign_out),
        portal!(GET "/portal/sign-out", false => pages::back),
        portal!(GET "/portal/invitation", false => pages::invitation_form),
        portal!(POST "/portal/invitation", false => pages::accept_invitation),
        portal!(GET "/portal/password-reset", false => pages::reset_form),
        portal!(POST "/portal/password-reset", false => pages::request_reset),
        portal!(GET "/portal/password-reset/confirm", false => pages::reset_confirm_form),
        portal!(POST "/portal/password-reset/confirm", false => pages::confirm_reset),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}", true => pages::delegation),
        portal!(POST "/portal/conferences/{id}/delegations/{delegation_id}/members", true => pages::add_member),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/members", false => pages::back),
        portal!(POST "/portal/conferences/{id}/delegations/{delegation_id}/members/sheet", true => pages::upload_sheet),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/members/sheet", false => pages::back),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/members/{member_id}", true => pages::member_form),
        portal!(POST "/portal/conferences/{id}/delegations/{delegation_id}/members/{member_id}", true => pages::change_member),
        portal!(POST "/portal/conferences/{id}/delegations/{delegation_id}/members/{member_id}/delete", true => pages::remove_member),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/members/{member_id}/delete", false => pages::back),
        portal!(POST "/portal/conferences/{id}/delegations/{delegation_id}/credentials", true => pages::upload_credentials),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/credentials", false => pages::back),
        portal!(GET "/portal/conferences/{id}/delegations/{delegation_id}/credentials/document", true => pages::credentials_document),
    ]
}

/// Registers [`pages_table`] (and `/portal` without the slash, redirected to `/portal/`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/portal",
        web::get().to(|| async { view::see_other(pages::HOME, Vec::new()) }),
    );
    let mut paths: Vec<(&'static str, Vec<PortalRoute>)> = Vec::new();
    for r in pages_table() {
        match paths.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, list)) => list.push(r),
            None => paths.push((r.path, vec![r])),
        }
    }
    for (path, list) in paths {
        let mut resource = web::resource(path);
        for r in &list {
            resource = resource.route((r.route)());
        }
        cfg.service(resource);
    }
}
