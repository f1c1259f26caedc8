//! What the route files share, so that no route module imports another: reading bodies and
//! query strings ([`request`]), the JSON responses ([`respond`]) and query parameters read
//! by more than one route ([`params`]); and the CORS
//! layer of the whole API ([`cors`]). Access rules
//! are [`crate::access`]'s. No handler lives here.

pub mod cors;
pub mod params;
pub mod public_cache;
pub mod request;
pub mod respond;
