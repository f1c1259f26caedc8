//! Test helpers, by concern: [`db`] (the test cluster, the migrated template, a fresh database
//! per test), [`app`] (a server per test, organisers, focal points and fixtures) and [`client`]
//! (the HTTP client that checks every response against the spec). Everything is re-exported
//! here, so tests name `crate::helpers::X`.

pub mod accreditation;
pub mod app;
pub mod client;
pub mod db;
pub mod mail;

pub use accreditation::*;
pub use app::*;
pub use client::*;
pub use db::*;
