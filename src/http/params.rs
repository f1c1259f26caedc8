//! Query parameters that more than one route reads.

use serde_json::Value;

use crate::domain::input::{Errors, Invalid, Query};
use crate::store::attendance::Order;
use crate::store::write::Input;

/// What a write route hands its store function ([`Input`]): the names of `body`'s fields and
/// `parsed`, its parse, whose 422 the store answers only after its access check.
pub fn write_input<T>(body: &Value, parsed: Result<T, Invalid>) -> Input<T> {
    let fields = body
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    Input {
        fields,
        parsed: parsed.map_err(|Invalid(fields)| fields),
    }
}

/// The write input of a spreadsheet of members, for the API's `POST .../members` and the
/// portal's upload alike: `bytes` read as XLSX when `xlsx`, else as CSV
/// ([`crate::domain::sheet`]), its field names the sheet's columns. Invalid rows or columns
/// are the input's 422.
pub fn sheet_input(bytes: &[u8], xlsx: bool) -> Input<crate::domain::delegation::MemberPost> {
    use crate::domain::sheet;
    let read = if xlsx {
        sheet::read_xlsx(bytes)
    } else {
        sheet::read_csv(bytes)
    };
    match read.and_then(|s| sheet::parse_member_sheet(&s)) {
        Ok((post, fields)) => Input {
            fields,
            parsed: Ok(post),
        },
        Err(Invalid(errors)) => Input {
            fields: Vec::new(),
            parsed: Err(errors),
        },
    }
}

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
