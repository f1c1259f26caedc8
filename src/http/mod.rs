//! What the route files share, so that no route module imports another: reading bodies and
//! query strings ([`request`]), the JSON responses ([`respond`]) and query parameters read
//! by more than one route ([`params`]); and the layers of the whole API, which
//! [`crate::startup`] wires: CORS ([`cors`]), `HEAD` as `GET` ([`head`]), the body deadline
//! ([`deadline`]), problem+json for actix's own errors ([`problems`]), the public-read cache
//! ([`public_cache`]). Access rules are [`crate::access`]'s, errors [`crate::error`]'s. No
//! handler lives here.

pub mod cors;
pub mod deadline;
pub mod head;
pub mod params;
pub mod problems;
pub mod public_cache;
pub mod request;
pub mod respond;
