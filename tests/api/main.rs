//! Plenary's API tests: real HTTP against a real PostgreSQL, one database per test.

mod attendance;
mod audit;
mod auth;
mod conditional;
mod conferences;
mod countries;
mod delegations;
mod errors;
mod exports;
mod health;
mod helpers;
mod idempotency;
mod import;
mod members;
mod migrations;
mod organisations;
mod participants;
mod presence;
mod protocol;
mod python;
mod resilience;
mod search;
mod security;
mod sessions;
mod summary;
