//! Bodies of the attendance endpoints: `{"delegation_ids": [...]}` for the presence at a
//! session and for a conference's explicit protocol order.

use serde_json::Value;
use uuid::Uuid;

use super::input::{Errors, Invalid, Obj};

/// The most delegation ids one body may list.
pub const MAX_DELEGATION_IDS: usize = 1000;

/// Reads `{"delegation_ids": [uuid, ...]}` (required, at most [`MAX_DELEGATION_IDS`], order
/// kept, repeated ids counted once). Errors: 422 listing every invalid or unknown field.
pub fn parse_delegation_ids(body: &Value) -> Result<Vec<Uuid>, Invalid> {
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(Vec::new());
    };
    let ids = o.uuid_list("delegation_ids", MAX_DELEGATION_IDS, &mut errors);
    let ids = o.required("delegation_ids", ids, &mut errors);
    o.finish(&mut errors);
    errors.finish(ids.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_required_strict_and_deduplicated() {
        let a = "019954f8-9000-7a00-8000-17a9f0c0e001";
        let ok = parse_delegation_ids(&json!({"delegation_ids": [a, a]}));
        assert_eq!(ok.map(|v| v.len()).ok(), Some(1));
        assert!(parse_delegation_ids(&json!({})).is_err());
        assert!(parse_delegation_ids(&json!({"delegation_ids": ["x"]})).is_err());
        assert!(parse_delegation_ids(&json!({"delegation_ids": [], "extra": 1})).is_err());
        assert_eq!(
            parse_delegation_ids(&json!({"delegation_ids": []})).ok(),
            Some(vec![])
        );
    }
}
