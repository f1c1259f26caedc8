//! The body of `POST /api/v1/conferences/{id}/participants/editions` (API.md "The official
//! List of Participants", "Editions"): `{"kind": "provisional"|"final"}`, nothing else.

use serde_json::Value;

use super::input::{Errors, Invalid, Obj};
use super::vocab::EditionKind;

/// Reads an edition request: `kind` is required and one of [`EditionKind::ALL`].
/// Errors: 422 naming `kind` (missing, null, not a string, another name) and every unknown
/// field, all at once.
pub fn parse_edition(body: &Value) -> Result<EditionKind, Invalid> {
    let mut errors = Errors::new();
    let Some(mut o) = Obj::new(body, "", &mut errors) else {
        return errors.finish(EditionKind::Provisional);
    };
    let kind = o
        .one_of("kind", EditionKind::ALL, &mut errors)
        .filter_map(EditionKind::parse);
    let kind = o.required("kind", kind, &mut errors);
    o.finish(&mut errors);
    errors.finish(kind.unwrap_or(EditionKind::Provisional))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kinds_are_read_and_anything_else_is_refused() {
        assert_eq!(
            parse_edition(&json!({"kind": "final"})).ok(),
            Some(EditionKind::Final)
        );
        assert_eq!(
            parse_edition(&json!({"kind": "provisional"})).ok(),
            Some(EditionKind::Provisional)
        );
        for bad in [
            json!({"kind": "draft"}),
            json!({}),
            json!({"kind": null}),
            json!({"kind": 1}),
            json!({"kind": "final", "number": 3}),
            json!([]),
        ] {
            assert!(parse_edition(&bad).is_err(), "{bad}");
        }
    }
}
