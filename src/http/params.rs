//! Query parameters that more than one route reads.

use crate::domain::input::{Errors, Query};
use crate::store::attendance::Order;

/// Reads `?order=name|protocol`: [`Order::Name`] or [`Order::Protocol`], `default` when the
/// parameter is absent. Any other value records a 422 field error in `errors` (and answers
/// `default`).
pub fn order_param(query: &Query, default: Order, errors: &mut Errors) -> Order {
    match query.one_of("order", &["name", "protocol"], errors) {
        Some("name") => Order::Name,
        Some("protocol") => Order::Protocol,
        _ => default,
    }
}
