//! Plenary: a conference and delegation management API for intergovernmental meetings.
//!
//! Data flows one way: route -> domain (parse) -> access (who may) -> store (query, audited
//! write) -> domain -> route. Each thing has one home:
//!
//! | module | owns |
//! |---|---|
//! | [`routes`] | thin handlers, one file per URL family (the URL tells the file); the route table |
//! | [`http`] | what handlers share: JSON responses with ETags, shared query parameters |
//! | [`conditional`] | reading `If-Match`, answering `If-None-Match`, setting `ETag` (RFC 9110) |
//! | [`idempotency`] | the `Idempotency-Key` middleware for `POST`, in named steps |
//! | [`auth`] | passwords (argon2id), JWT access tokens (RFC 8725), the one bearer parser and extractors |
//! | [`access`] | every "who may" rule (admins, the organiser grant, organisers, focal points) and its refusal (401/403/404), worded once |
//! | [`domain`] | validated input and API shapes; `vocab`: typed statuses and roles; `precondition`: entity tags |
//! | [`store`] | every query; `write`: the one audited-write driver; `audit`: typed log entries; `error`: `StoreError` |
//! | [`store::conferences`] | the conference row (`row`), the list and its one filter (`list`), writes (`changes`) |
//! | [`store::grants`] | who organises which conference (owner, editor) |
//! | [`store::focal_points`] | focal points of delegations: invitations (hashed codes), acceptance, revocation |
//! | [`store::documents`] | saving an imported conference document in one transaction |
//! | [`store::editions`] | editions of the list of participants: frozen, numbered snapshots and their statistics |
//! | [`import`] | reading conference documents (`data/*.json`) into validated values |
//! | [`export`] | CSV (RFC 4180), iCalendar (RFC 5545) files and the printable List of Participants (HTML) |
//! | [`error`] | `ApiError` and its RFC 9457 problem+json rendering; `StoreError` -> `ApiError` |
//! | [`db`] | pool, migrations, ISO 3166-1 sync, diesel schema (the embedded PostgreSQL cluster is the workspace crate `plenary-embedded-pg`, `crates/embedded-pg`) |
//! | [`state`] | `AppState`: what one HTTP worker shares (pool, country index, token keys, login limits) |
//! | [`startup`] | building and running the actix application |
//! | [`config`], [`cli`], [`telemetry`] | settings from the environment, the `plenary` command line, tracing |

pub mod access; // who may: every access rule, each refusal worded once
pub mod auth; // organisers' passwords, JWT access tokens, bearer extractors
pub mod cli; // the `plenary` command line
pub mod conditional; // ETag, If-Match, If-None-Match (RFC 9110)
pub mod config; // settings from the environment
pub mod db; // pool, migrations, ISO 3166-1 sync, diesel schema
pub mod domain; // validated input and API shapes
pub mod error; // ApiError -> RFC 9457 problem+json
pub mod export; // CSV (RFC 4180), iCalendar (RFC 5545), the printable list of participants (HTML)
pub mod freshness; // the conference revisions an instance knows, asked of the primary every 100 ms
pub mod http; // what route files share: JSON responses, shared query parameters and read rules
pub mod idempotency; // Idempotency-Key middleware for POST
pub mod import; // conference documents (data/*.json)
pub mod routes; // thin HTTP handlers, one module per URL family, none importing another
pub mod startup; // builds and runs the actix application (one AppState per worker)
pub mod state; // AppState: the pool, country index, token keys and login limits a worker shares
pub mod store; // every query, one module per aggregate
pub mod telemetry; // tracing subscriber
