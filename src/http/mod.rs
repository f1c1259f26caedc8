//! What the route files share, so that no route module imports another: the JSON responses
//! ([`respond`]), query parameters read by more than one route ([`params`]) and read rules
//! checked by more than one route ([`access`]). No handler lives here.

pub mod access;
pub mod params;
pub mod respond;
