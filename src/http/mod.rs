//! What the route files share, so that no route module imports another: the JSON responses
//! ([`respond`]) and query parameters read by more than one route ([`params`]). Access rules
//! are [`crate::access`]'s. No handler lives here.

pub mod params;
pub mod respond;
