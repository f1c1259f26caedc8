//! Plenary's API tests: real HTTP against a real PostgreSQL, one database per test.

mod attendance;
mod auth;
mod conferences;
mod countries;
mod delegations;
mod errors;
mod exports;
mod health;
mod helpers;
mod import;
mod members;
mod migrations;
mod organisations;
mod participants;
mod presence;
mod protocol;
mod python;
mod search;
mod sessions;
mod summary;
