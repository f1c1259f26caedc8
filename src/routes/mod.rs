//! Thin HTTP handlers, one module per resource: parse (domain), query (store), render.
//! The URL tells the file: `/api/v1/conferences/{id}/sessions` is `routes/sessions.rs`.

pub mod attendance;
pub mod auth;
pub mod conferences;
pub mod countries;
pub mod delegations;
pub mod exports;
pub mod health;
pub mod members;
pub mod organisations;
pub mod sessions;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;

/// Registers every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/health")
            .service(web::resource("/live").route(web::get().to(health::live)))
            .service(web::resource("/ready").route(web::get().to(health::ready))),
    )
    .service(web::resource("/api-spec/openapi.yaml").route(web::get().to(health::openapi)))
    .service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(
                crate::idempotency::middleware,
            ))
            .service(web::resource("/auth/token").route(web::post().to(auth::token)))
            .service(web::resource("/me").route(web::get().to(auth::me)))
            .service(web::resource("/countries").route(web::get().to(countries::list)))
            .service(web::resource("/countries/{code}").route(web::get().to(countries::get)))
            .service(
                web::resource("/countries/{code}/attendance")
                    .route(web::get().to(countries::attendance)),
            )
            .service(
                web::resource("/organisations")
                    .route(web::get().to(organisations::list))
                    .route(web::post().to(organisations::create)),
            )
            .service(
                web::resource("/organisations/{id}")
                    .route(web::get().to(organisations::get))
                    .route(web::patch().to(organisations::update))
                    .route(web::delete().to(organisations::delete)),
            )
            .service(
                web::resource("/organisations/{id}/attendance")
                    .route(web::get().to(organisations::attendance)),
            )
            .service(
                web::resource("/conferences")
                    .route(web::get().to(conferences::list))
                    .route(web::post().to(conferences::create)),
            )
            .service(
                web::resource("/conferences/{id}")
                    .route(web::get().to(conferences::get))
                    .route(web::patch().to(conferences::update))
                    .route(web::delete().to(conferences::delete)),
            )
            .service(
                web::resource("/conferences/{id}/organisers")
                    .route(web::get().to(conferences::list_organisers))
                    .route(web::post().to(conferences::add_organiser)),
            )
            .service(
                web::resource("/conferences/{id}/attendance")
                    .route(web::get().to(conferences::attendance)),
            )
            .service(web::resource("/conferences/{id}/log").route(web::get().to(conferences::log)))
            // Issue 5: attendance that organisers publish (routes/attendance.rs, exports.rs).
            // The file names are literal segments, registered as resources of their own.
            .service(
                web::resource("/conferences/{id}/attendance.csv")
                    .route(web::get().to(exports::attendance_csv)),
            )
            .service(
                web::resource("/conferences/{id}/participants")
                    .route(web::get().to(attendance::participants)),
            )
            .service(
                web::resource("/conferences/{id}/participants.csv")
                    .route(web::get().to(exports::participants_csv)),
            )
            .service(
                web::resource("/conferences/{id}/sessions.ics")
                    .route(web::get().to(exports::sessions_ics)),
            )
            .service(
                web::resource("/conferences/{id}/protocol-order")
                    .route(web::get().to(attendance::get_protocol_order))
                    .route(web::put().to(attendance::put_protocol_order)),
            )
            .service(
                web::resource("/conferences/{id}/sessions/{session_id}/attendance")
                    .route(web::get().to(attendance::get_session))
                    .route(web::put().to(attendance::put_session)),
            )
            .service(web::resource("/attendance/summary").route(web::get().to(attendance::summary)))
            .service(
                web::resource("/conferences/{id}/delegations")
                    .route(web::get().to(delegations::list))
                    .route(web::post().to(delegations::create)),
            )
            .service(
                web::resource("/conferences/{id}/delegations/{delegation_id}")
                    .route(web::get().to(delegations::get))
                    .route(web::patch().to(delegations::update))
                    .route(web::delete().to(delegations::delete)),
            )
            .service(
                web::resource("/conferences/{id}/delegations/{delegation_id}/members")
                    .route(web::get().to(members::list))
                    .route(web::post().to(members::create)),
            )
            .service(
                web::resource("/conferences/{id}/delegations/{delegation_id}/members/{member_id}")
                    .route(web::patch().to(members::update))
                    .route(web::delete().to(members::delete)),
            )
            .service(
                web::resource("/conferences/{id}/sessions")
                    .route(web::get().to(sessions::list))
                    .route(web::post().to(sessions::create)),
            )
            .service(
                web::resource("/conferences/{id}/sessions/{session_id}")
                    .route(web::get().to(sessions::get))
                    .route(web::patch().to(sessions::update))
                    .route(web::delete().to(sessions::delete)),
            ),
    );
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// 201 with a `Location` header and a JSON body.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// 200 with a single resource and its `ETag` (304 when `If-None-Match` matches).
pub fn ok_tagged<T: Serialize>(req: &actix_web::HttpRequest, body: &T) -> HttpResponse {
    crate::conditional::json_with_etag(req, actix_web::http::StatusCode::OK, body)
}

/// 201 with a `Location` header, the created resource and its `ETag`.
pub fn created_tagged<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, crate::conditional::etag_of(body)))
        .json(body)
}

/// 204.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}
