//! Plenary: a conference and delegation management API for intergovernmental meetings.
//!
//! Data flows one way: route -> domain (parse) -> store (query) -> domain -> route.

pub mod access; // who may: every access rule, each refusal worded once
pub mod auth; // organisers' passwords, JWT access tokens, bearer extractors
pub mod cli; // the `plenary` command line
pub mod conditional; // ETag, If-Match, If-None-Match (RFC 9110)
pub mod config; // settings from the environment
pub mod db; // pool, migrations, ISO 3166-1 sync, embedded PostgreSQL, diesel schema
pub mod domain; // validated input and API shapes
pub mod error; // ApiError -> RFC 9457 problem+json
pub mod export; // CSV (RFC 4180) and iCalendar (RFC 5545) files
pub mod http; // what route files share: JSON responses, shared query parameters and read rules
pub mod idempotency; // Idempotency-Key middleware for POST
pub mod import; // conference documents (data/*.json)
pub mod routes; // thin HTTP handlers, one module per URL family, none importing another
pub mod startup; // builds and runs the actix application (one AppState per worker)
pub mod state; // AppState: the pool, country index, token keys and login limits a worker shares
pub mod store; // every query, one module per aggregate
pub mod telemetry; // tracing subscriber
