//! What the route files share, so that no route module imports another: reading bodies and
//! query strings ([`request`]), the JSON responses ([`respond`]) and query parameters read
//! by more than one route ([`params`]); and the layers of the whole API, which
//! [`crate::startup`] wires: the listening socket and each accepted connection
//! ([`connection`]), CORS ([`cors`]), `HEAD` as `GET` ([`head`]), the body deadline
//! ([`deadline`]), the budget of request bodies in flight and the table of body limits
//! ([`body_budget`]), problem+json for actix's own errors ([`problems`]), the public-read
//! cache ([`public_cache`], with what the instance shares for it in [`public_reads`]). Access rules are [`crate::access`]'s, errors [`crate::error`]'s.
//! No handler lives here.

pub mod body_budget;
pub mod connection;
pub mod cors;
pub mod deadline;
pub mod head;
pub mod params;
pub mod problems;
pub mod public_cache;
pub mod public_reads;
pub mod request;
pub mod respond;
