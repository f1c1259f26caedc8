//! Plenary: a conference and delegation management API for intergovernmental meetings.
//!
//! Data flows one way: route -> domain (parse) and access (the pure rule) -> store (query;
//! the write driver re-checks the rule inside its transaction) -> db, and back up as domain
//! values to the route. Imports point down the layers, never up; each module uses its own
//! layer and those below it (checked by the `layers` tests, which read every `crate::` path
//! of `src/`):
//!
//! | layer | modules | knows |
//! |---|---|---|
//! | wiring | [`cli`], [`startup`], [`telemetry`] | everything; decides nothing of its own |
//! | routes | [`routes`], [`portal`] | the layers below; no route module imports another, and the API's routes and the portal's pages do not import each other |
//! | HTTP | [`http`], [`idempotency`], [`auth`], [`state`], [`config`], [`error`], [`conditional`], [`export`], [`notify`] | requests, responses, problem+json; the sender of what the outbox holds (SMTP or `.eml` files, signed webhooks) |
//! | files | [`import`] | conference documents, read into domain values |
//! | store | [`store`] | every query (the revision watcher among them); returns `StoreError`, never HTTP |
//! | db | [`db`], [`freshness`] | connections, migrations, the schema; the registry of revisions an instance knows (reads no database) |
//! | rule | [`access`] | who may: pure, reads no database |
//! | values | [`domain`] | parsed values; parsers return field errors (`Invalid`), no HTTP, no actix |
//!
//! Below them all, the workspace crate `plenary-embedded-pg` (`crates/embedded-pg`) runs the
//! embedded cluster; it imports nothing of Plenary, and the compiler enforces that.
//!
//! Each thing has one home:
//!
//! | module | owns |
//! |---|---|
//! | [`routes`] | thin handlers, one file per URL family (the URL tells the file); the route table |
//! | [`portal`] | the focal points' web pages under `/portal/`: forms over the same flows and store functions as the API, cookie sessions, form tokens, its templates and words |
//! | [`http`] | what handlers share (reading bodies and query strings, the one table of body limits, JSON responses with ETags, shared query parameters) and the layers: CORS, `HEAD`, the body deadline, the budget of bodies in flight, problem+json for actix's errors, the public-read cache |
//! | [`conditional`] | reading `If-Match`, answering `If-None-Match`, setting `ETag` (RFC 9110) |
//! | [`idempotency`] | the `Idempotency-Key` middleware for `POST`, in named steps |
//! | [`auth`] | passwords (argon2id), JWT access tokens (RFC 8725), the one bearer parser and extractors; `flows`: sign-in, invitations, password resets and changes, for the API and the portal |
//! | [`access`] | every "who may" rule (admins, the organiser grant, organisers, focal points) and its refusal (401/403/404), worded once; the pure rule, loaded by `store::standing` |
//! | [`domain`] | validated input and API shapes, the `Caller`; `input`: field errors; `vocab`: typed statuses and roles; `precondition`: entity tags |
//! | [`store`] | every query; `standing`: a caller's grants on a conference, judged by `access`; `write`: the one audited-write driver; `audit`: typed log entries; `reference`: ISO 3166-1 sync; `error`: `StoreError` |
//! | [`store::conferences`] | the conference row (`row`), the list and its one filter (`list`), writes (`changes`) |
//! | [`store::grants`] | who organises which conference (owner, editor) |
//! | [`store::focal_points`] | focal points of delegations: invitations (hashed codes), acceptance, revocation |
//! | [`store::codes`] | one-time codes (invitations, password resets): 256 random bits, stored as SHA-256 |
//! | [`store::password_resets`] | password resets by e-mail: the code, its e-mail, spending it (new password, proven address, tokens ended) |
//! | [`store::documents`] | saving an imported conference document in one transaction |
//! | [`store::editions`] | editions of the list of participants: frozen, numbered snapshots and their statistics |
//! | [`store::webhooks`] | a conference's webhooks (the secret never in what organisers read) and the state of their deliveries (rows of `store::outbox`) |
//! | [`notify`] | the sender of e-mails (lettre) and webhook deliveries (Standard Webhooks), claiming from `store::outbox` |
//! | [`import`] | reading conference documents (`data/*.json`) into validated values |
//! | [`export`] | CSV (RFC 4180), iCalendar (RFC 5545) files and the printable List of Participants (HTML) |
//! | [`error`] | `ApiError` and its RFC 9457 problem+json rendering: the one table of every error the server sends, and which layer returns which |
//! | [`db`] | pool, migrations, diesel schema (the embedded PostgreSQL cluster is the workspace crate `plenary-embedded-pg`, `crates/embedded-pg`) |
//! | [`state`] | `AppState`: what one HTTP worker shares (pool, country index, token keys, login limits) |
//! | [`startup`] | wiring and running the actix application |
//! | [`config`], [`cli`], [`telemetry`] | settings from the environment, the `plenary` command line, tracing |

pub mod access; // who may: every access rule, each refusal worded once
pub mod auth; // organisers' passwords, JWT access tokens, bearer extractors
pub mod cli; // the `plenary` command line
pub mod conditional; // ETag, If-Match, If-None-Match (RFC 9110)
pub mod config; // settings from the environment
pub mod db; // pool, migrations, diesel schema
pub mod domain; // validated input and API shapes
pub mod error; // ApiError -> RFC 9457 problem+json: every error the server sends
pub mod export; // CSV (RFC 4180), iCalendar (RFC 5545), the printable list of participants (HTML)
pub mod freshness; // the registry of conference revisions an instance knows (the watcher is in store)
pub mod http; // what route files share, and the layers startup wires
pub mod idempotency; // Idempotency-Key middleware for POST
pub mod import; // conference documents (data/*.json)
pub mod notify; // the sender of e-mails and webhook deliveries, one per instance
pub mod portal; // the focal points' web pages under /portal/ (forms, cookie sessions)
pub mod routes; // thin HTTP handlers, one module per URL family, none importing another
pub mod startup; // wires and runs the actix application (one AppState per worker)
pub mod state; // AppState: the pool, country index, token keys and login limits a worker shares
pub mod store; // every query, one module per aggregate
pub mod telemetry; // tracing subscriber

#[cfg(test)]
mod layers; // the layer rule above, checked
