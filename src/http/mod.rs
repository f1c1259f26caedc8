//! What the route files share, so that no route module imports another: the JSON responses
//! ([`respond`]) and query parameters read by more than one route ([`params`]); and the CORS
//! layer of the whole API ([`cors`]); the budget of request bodies in flight ([`body_budget`]). Access rules
//! are [`crate::access`]'s. No handler lives here.

pub mod body_budget;
pub mod cors;
pub mod params;
pub mod public_cache;
pub mod respond;
