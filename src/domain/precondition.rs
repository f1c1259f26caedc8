//! Entity tags and `If-Match` (RFC 9110 §8.8.3, §13.1.1), free of HTTP types: the store
//! checks a write's precondition against the locked row's representation; the HTTP layer
//! ([`crate::conditional`]) reads the header and sets `ETag`.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The strong entity tag of a representation: `"` + 32 hex digits (the first 16 bytes of the
/// SHA-256 of its JSON serialisation) + `"`.
pub fn etag_of<T: Serialize>(value: &T) -> String {
    etag_of_bytes(&serde_json::to_vec(value).unwrap_or_default())
}

/// The strong entity tag of raw bytes (a file): `"` + 32 hex digits (the first 16 bytes) of
/// their SHA-256 + `"`.
pub fn etag_of_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// The `If-Match` condition of a write: absent, `*`, or a list of entity tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: the write is unconditional.
    #[default]
    Absent,
    /// `If-Match: *`: any current representation matches.
    Any,
    /// The listed tags, as sent (weak ones never match: strong comparison).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Whether the condition holds for the current representation `current`: always for
    /// [`IfMatch::Absent`] and [`IfMatch::Any`]; for a list, when one strong tag in it equals
    /// [`etag_of`]`(current)`.
    pub fn matches<T: Serialize>(&self, current: &T) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(list) => {
                let current = etag_of(current);
                list.iter().any(|t| !t.starts_with("W/") && *t == current)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tags_never_match_and_strong_ones_do() {
        let value = serde_json::json!({"a": 1});
        let tag = etag_of(&value);
        assert!(IfMatch::Tags(vec![tag.clone()]).matches(&value));
        assert!(!IfMatch::Tags(vec![format!("W/{tag}")]).matches(&value));
        assert!(!IfMatch::Tags(vec!["\"other\"".into()]).matches(&value));
        assert!(IfMatch::Any.matches(&value));
    }
}
