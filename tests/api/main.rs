//! Plenary's API tests: real HTTP against a real PostgreSQL, one database per test.

mod attendance;
mod auth;
mod conferences;
mod countries;
mod delegations;
mod errors;
mod health;
mod helpers;
mod history_order;
mod import;
mod members;
mod migrations;
mod organisations;
mod sessions;
