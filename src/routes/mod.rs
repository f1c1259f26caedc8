//! Thin HTTP handlers, one module per URL family: parse (domain), query (store), render.
//! The URL tells the file: `/api/v1/conferences/{id}/sessions` is `routes/sessions.rs`.
//!
//! No route module imports another: what they share lives in [`crate::http`]. This module
//! holds only the route table ([`endpoints`], [`configure`]).

pub mod auth;
pub mod badges;
pub mod check_ins;
pub mod conferences;
pub mod countries;
pub mod credentials;
pub mod delegations;
pub mod docs;
pub mod drafting;
pub mod editions;
pub mod exports;
pub mod focal_points;
pub mod health;
pub mod members;
pub mod messages;
pub mod organisations;
pub mod participants;
pub mod presence;
pub mod protocol;
pub mod sessions;
pub mod summary;
pub mod webhooks;

use actix_web::http::Method;
use actix_web::{web, ResponseError, Route};

use crate::error::ApiError;

/// One operation of the API: a method on a path, and the handler that serves it.
///
/// [`endpoints`] lists them all; [`configure`] registers exactly that list, and the contract
/// tests compare it with the operations of `api-spec/openapi.yaml` in both directions, so a
/// route that is not in the spec (or a spec operation that is not served) fails the build.
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{name}` for one segment, written as in `api-spec/openapi.yaml`.
    pub path: &'static str,
    route: fn() -> Route,
}

/// `endpoint!(GET "/path/{id}" => handler)`: one [`Endpoint`].
macro_rules! endpoint {
    ($method:ident $path:literal => $handler:path) => {
        Endpoint {
            method: Method::$method,
            path: $path,
            route: || web::route().method(Method::$method).to($handler),
        }
    };
}

/// Every operation the server serves, in registration order. A new endpoint is one line here
/// and one operation in `api-spec/openapi.yaml`.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint!(GET "/health/live" => health::live),
        endpoint!(GET "/health/ready" => health::ready),
        endpoint!(GET "/api-spec/openapi.yaml" => health::openapi),
        endpoint!(GET "/docs" => docs::redirect),
        endpoint!(GET "/docs/" => docs::index),
        endpoint!(GET "/docs/{file}" => docs::asset),
        endpoint!(POST "/api/v1/auth/token" => auth::token),
        endpoint!(POST "/api/v1/auth/invitations/accept" => auth::accept_invitation),
        endpoint!(POST "/api/v1/auth/password-reset" => auth::request_password_reset),
        endpoint!(POST "/api/v1/auth/password-reset/confirm" => auth::confirm_password_reset),
        endpoint!(POST "/api/v1/auth/password" => auth::change_password),
        endpoint!(GET "/api/v1/me" => auth::me),
        endpoint!(GET "/api/v1/countries" => countries::list),
        endpoint!(GET "/api/v1/countries/{code}" => countries::get),
        endpoint!(GET "/api/v1/countries/{code}/attendance" => countries::attendance),
        endpoint!(GET "/api/v1/organisations" => organisations::list),
        endpoint!(POST "/api/v1/organisations" => organisations::create),
        endpoint!(GET "/api/v1/organisations/{id}" => organisations::get),
        endpoint!(PATCH "/api/v1/organisations/{id}" => organisations::update),
        endpoint!(DELETE "/api/v1/organisations/{id}" => organisations::delete),
        endpoint!(GET "/api/v1/organisations/{id}/attendance" => organisations::attendance),
        endpoint!(GET "/api/v1/organisations/{id}/log" => organisations::log),
        endpoint!(GET "/api/v1/conferences" => conferences::list),
        endpoint!(POST "/api/v1/conferences" => conferences::create),
        endpoint!(GET "/api/v1/conferences/{id}" => conferences::get),
        endpoint!(PATCH "/api/v1/conferences/{id}" => conferences::update),
        endpoint!(DELETE "/api/v1/conferences/{id}" => conferences::delete),
        endpoint!(GET "/api/v1/conferences/{id}/organisers" => conferences::list_organisers),
        endpoint!(POST "/api/v1/conferences/{id}/organisers" => conferences::add_organiser),
        endpoint!(GET "/api/v1/conferences/{id}/attendance" => conferences::attendance),
        endpoint!(GET "/api/v1/conferences/{id}/log" => conferences::log),
        endpoint!(POST "/api/v1/conferences/{id}/attendance/draft" => drafting::draft),
        endpoint!(GET "/api/v1/conferences/{id}/attendance.csv" => exports::attendance_csv),
        endpoint!(GET "/api/v1/conferences/{id}/participants" => participants::list),
        endpoint!(GET "/api/v1/conferences/{id}/participants.csv" => exports::participants_csv),
        endpoint!(GET "/api/v1/conferences/{id}/participants.html" => exports::participants_html),
        endpoint!(GET "/api/v1/conferences/{id}/participants/editions" => editions::list),
        endpoint!(POST "/api/v1/conferences/{id}/participants/editions" => editions::create),
        // `{number}.csv` before `{number}`: a plain `{number}` segment would also match `1.csv`.
        endpoint!(GET "/api/v1/conferences/{id}/participants/editions/{number}.csv" => editions::csv),
        endpoint!(GET "/api/v1/conferences/{id}/participants/editions/{number}.html" => editions::html),
        endpoint!(GET "/api/v1/conferences/{id}/participants/editions/{number}" => editions::get),
        endpoint!(GET "/api/v1/conferences/{id}/sessions.ics" => exports::sessions_ics),
        endpoint!(GET "/api/v1/conferences/{id}/protocol-order" => protocol::get),
        endpoint!(PUT "/api/v1/conferences/{id}/protocol-order" => protocol::put),
        endpoint!(GET "/api/v1/conferences/{id}/sessions/{session_id}/attendance" => presence::get),
        endpoint!(PUT "/api/v1/conferences/{id}/sessions/{session_id}/attendance" => presence::put),
        endpoint!(GET "/api/v1/attendance/summary" => summary::get),
        endpoint!(GET "/api/v1/conferences/{id}/delegations" => delegations::list),
        endpoint!(POST "/api/v1/conferences/{id}/delegations" => delegations::create),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}" => delegations::get),
        endpoint!(PATCH "/api/v1/conferences/{id}/delegations/{delegation_id}" => delegations::update),
        endpoint!(DELETE "/api/v1/conferences/{id}/delegations/{delegation_id}" => delegations::delete),
        endpoint!(GET "/api/v1/conferences/{id}/members" => members::queue),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}/members" => members::list),
        endpoint!(POST "/api/v1/conferences/{id}/delegations/{delegation_id}/members" => members::create),
        endpoint!(PATCH "/api/v1/conferences/{id}/delegations/{delegation_id}/members/{member_id}" => members::update),
        endpoint!(DELETE "/api/v1/conferences/{id}/delegations/{delegation_id}/members/{member_id}" => members::delete),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}/members/{member_id}/badge" => badges::get),
        endpoint!(PATCH "/api/v1/conferences/{id}/delegations/{delegation_id}/members/{member_id}/badge" => badges::update),
        endpoint!(POST "/api/v1/conferences/{id}/delegations/{delegation_id}/members/{member_id}/badge/reissue" => badges::reissue),
        endpoint!(GET "/api/v1/conferences/{id}/badges/key" => badges::key),
        endpoint!(GET "/api/v1/conferences/{id}/badges/revoked" => badges::revoked),
        endpoint!(GET "/api/v1/conferences/{id}/badges.html" => badges::sheet),
        endpoint!(GET "/api/v1/conferences/{id}/check-ins" => check_ins::list),
        endpoint!(POST "/api/v1/conferences/{id}/check-ins" => check_ins::create),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}/focal-points" => focal_points::list),
        endpoint!(POST "/api/v1/conferences/{id}/delegations/{delegation_id}/focal-points" => focal_points::invite),
        endpoint!(DELETE "/api/v1/conferences/{id}/delegations/{delegation_id}/focal-points/{focal_point_id}" => focal_points::revoke),
        endpoint!(GET "/api/v1/conferences/{id}/credentials" => credentials::queue),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}/credentials" => credentials::get),
        endpoint!(PUT "/api/v1/conferences/{id}/delegations/{delegation_id}/credentials" => credentials::put),
        endpoint!(PATCH "/api/v1/conferences/{id}/delegations/{delegation_id}/credentials" => credentials::review),
        endpoint!(GET "/api/v1/conferences/{id}/delegations/{delegation_id}/credentials/document" => credentials::document),
        endpoint!(GET "/api/v1/conferences/{id}/messages" => messages::list),
        endpoint!(POST "/api/v1/conferences/{id}/messages/{message_id}/resend" => messages::resend),
        endpoint!(GET "/api/v1/conferences/{id}/webhooks" => webhooks::list),
        endpoint!(POST "/api/v1/conferences/{id}/webhooks" => webhooks::create),
        endpoint!(GET "/api/v1/conferences/{id}/webhooks/{webhook_id}" => webhooks::get),
        endpoint!(DELETE "/api/v1/conferences/{id}/webhooks/{webhook_id}" => webhooks::delete),
        endpoint!(GET "/api/v1/conferences/{id}/webhooks/{webhook_id}/deliveries" => webhooks::deliveries),
        endpoint!(GET "/api/v1/conferences/{id}/sessions" => sessions::list),
        endpoint!(POST "/api/v1/conferences/{id}/sessions" => sessions::create),
        endpoint!(GET "/api/v1/conferences/{id}/sessions/{session_id}" => sessions::get),
        endpoint!(PATCH "/api/v1/conferences/{id}/sessions/{session_id}" => sessions::update),
        endpoint!(DELETE "/api/v1/conferences/{id}/sessions/{session_id}" => sessions::delete),
    ]
}

/// Registers every route of [`endpoints`]: one resource per path, whose other methods are 405
/// with an `Allow` header listing the methods it has (RFC 9110 §15.5.6).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<(&'static str, Vec<Endpoint>)> = Vec::new();
    for e in endpoints() {
        match paths.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, list)) => list.push(e),
            None => paths.push((e.path, vec![e])),
        }
    }
    for (path, list) in paths {
        let allow = list
            .iter()
            .map(|e| e.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(path).default_service(web::to(move || {
            let allow = allow.clone();
            async move { ApiError::MethodNotAllowed(allow).error_response() }
        }));
        for e in &list {
            resource = resource.route((e.route)());
        }
        cfg.service(resource);
    }
}
