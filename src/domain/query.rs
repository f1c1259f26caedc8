//! Query strings: decoded once into ordered key/value pairs (NFC, like every stored text), read
//! by name with typed accessors that record 422s.

use chrono::NaiveDate;

use super::input::{parse_date, Errors, Invalid};
use super::text::nfc;

/// The query string of a request as ordered key/value pairs.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// The decoded pairs of a query string ([`crate::http::request::parse_query`] decodes
    /// it). A value with a control character (`%00` ...) is an error naming the parameter:
    /// no parameter may hold one, and PostgreSQL text cannot hold NUL at all. Values are
    /// trimmed and normalised to NFC ([`nfc`]).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, Invalid> {
        let mut errors = Errors::new();
        for (name, value) in &pairs {
            if value.chars().any(char::is_control) {
                errors.push(name.clone(), "must not contain control characters");
            }
        }
        // Values are compared as a person sees them: NFC, like every stored text.
        let pairs = pairs.into_iter().map(|(k, v)| (k, nfc(&v))).collect();
        errors.finish(Self { pairs })
    }

    /// The trimmed value of parameter `name`, if given and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A date parameter.
    pub fn date(&self, name: &str, errors: &mut Errors) -> Option<NaiveDate> {
        let raw = self.get(name)?;
        match parse_date(raw) {
            Ok(d) => Some(d),
            Err(m) => {
                errors.push(name, m);
                None
            }
        }
    }

    /// A UUID parameter (`?delegation=...`): `None` when absent, and when malformed, with a
    /// 422 entry "must be a UUID" under its name.
    pub fn uuid(&self, name: &str, errors: &mut Errors) -> Option<uuid::Uuid> {
        let raw = self.get(name)?;
        match uuid::Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(name, "must be a UUID");
                None
            }
        }
    }

    /// An enum parameter.
    pub fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
        errors: &mut Errors,
    ) -> Option<&'static str> {
        let raw = self.get(name)?;
        match allowed.iter().find(|a| **a == raw) {
            Some(a) => Some(*a),
            None => {
                errors.push(name, format!("must be one of: {}", allowed.join(", ")));
                None
            }
        }
    }

    /// A boolean parameter (`true`/`false`).
    pub fn boolean(&self, name: &str, errors: &mut Errors) -> Option<bool> {
        match self.get(name)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                errors.push(name, "must be true or false");
                None
            }
        }
    }

    /// A `from`/`to` pair: both dates, `from <= to`.
    pub fn date_range(&self, errors: &mut Errors) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let from = self.date("from", errors);
        let to = self.date("to", errors);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push("to", "must not be before from");
            }
        }
        (from, to)
    }
}
