//! Strict parsing of JSON request bodies and query strings into validated values.
//!
//! Bodies are parsed as [`serde_json::Value`] first ([`crate::http::request::parse_json`]:
//! malformed JSON is 400), then read field by
//! field through [`Obj`], which trims strings, checks types, lengths and enums, refuses unknown
//! fields, and collects *every* problem into one [`Errors`] list so that a 422 names all invalid
//! fields at once (API.md, "Request bodies are strict").

use chrono::{DateTime, FixedOffset, NaiveDate, SubsecRound, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use serde::Serialize;

use crate::domain::country::CountryIndex;

pub use super::query::Query;
use super::text::{clean, Lines};

/// One invalid input field: `field` is a dotted path with 0-based indexes (`items[3].country`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request (body field, query parameter or header name).
    pub field: String,
    /// Human-readable reason, e.g. `"must be 1 to 300 characters"`.
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Input that failed validation: every invalid field at once. It knows no HTTP: the HTTP
/// layer answers it 422 ([`crate::error`]), the store returns it as
/// [`crate::store::StoreError::Invalid`], the importer prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

/// A list of field errors being collected while a request is read.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Records that `field` is invalid for `message`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(value)` when no error was recorded, else every error.
    pub fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(self.0))
        }
    }
    /// The recorded errors, or `Ok(())` when there are none (for the store, which knows no
    /// HTTP: its `StoreError::Invalid` is the same 422).
    pub fn into_fields(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
    /// The recorded errors, or `Ok(())` when there are none.
    pub fn check(self) -> Result<(), Invalid> {
        self.finish(())
    }
}

/// The state of one optional field of a body: missing, explicit `null`, a valid value, or
/// invalid (the error is already recorded).
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// The field is not in the body.
    Absent,
    /// The field is `null`.
    Null,
    /// The field holds a valid value.
    Value(T),
    /// The field was invalid; an error was recorded.
    Invalid,
}

impl<T> Field<T> {
    /// Converts a value with `f`; a value `f` refuses becomes [`Field::Invalid`] (used to turn
    /// a name checked by `one_of` into its vocabulary enum, which never refuses it).
    pub fn filter_map<U>(self, f: impl FnOnce(T) -> Option<U>) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(v) => f(v).map_or(Field::Invalid, Field::Value),
            Field::Invalid => Field::Invalid,
        }
    }
    /// For nullable fields: `None` when absent, `Some(None)` when null, `Some(Some(v))`.
    /// `Invalid` is `None` (the error is already recorded).
    pub fn patch(self) -> Option<Option<T>> {
        match self {
            Field::Absent | Field::Invalid => None,
            Field::Null => Some(None),
            Field::Value(v) => Some(Some(v)),
        }
    }
    /// The value, if valid and present.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// Reads the fields of one JSON object, recording errors under a path prefix.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    known: Vec<&'static str>,
}

/// Joins a prefix and a field name into a path (`items[2]` + `country` = `items[2].country`).
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Human name of a JSON value's type, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Obj<'a> {
    /// Starts reading `value` as an object; records an error and returns `None` otherwise.
    /// `prefix` is the path of the object itself (`""` for the body).
    pub fn new(value: &'a Value, prefix: &str, errors: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self {
                map,
                prefix: prefix.to_string(),
                known: Vec::new(),
            }),
            other => {
                let field = if prefix.is_empty() { "body" } else { prefix };
                errors.push(
                    field,
                    format!("must be a JSON object, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// The path of field `name` in this object.
    pub fn path(&self, name: &str) -> String {
        join(&self.prefix, name)
    }

    /// True when the object has the key `name` (even as null).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The raw value of `name`, registering it as a known field.
    pub fn raw(&mut self, name: &'static str) -> Field<&'a Value> {
        self.known.push(name);
        match self.map.get(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Value(v),
        }
    }

    fn typed<T>(
        &mut self,
        name: &'static str,
        errors: &mut Errors,
        parse: impl FnOnce(&'a Value) -> Result<T, String>,
    ) -> Field<T> {
        match self.raw(name) {
            Field::Value(v) => match parse(v) {
                Ok(t) => Field::Value(t),
                Err(message) => {
                    errors.push(self.path(name), message);
                    Field::Invalid
                }
            },
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Invalid => Field::Invalid,
        }
    }

    /// A one-line string ([`Lines::One`]): trimmed and normalised to NFC, of `min..=max`
    /// characters after that (see [`clean`]).
    pub fn string(
        &mut self,
        name: &'static str,
        min: usize,
        max: usize,
        errors: &mut Errors,
    ) -> Field<String> {
        self.checked(name, min, max, Lines::One, errors)
    }

    /// A one-line name: [`Obj::string`] with the invisible zero-width characters
    /// ([`super::text::is_zero_width`]) removed, so that two names that look the same are the same text.
    pub fn name(
        &mut self,
        name: &'static str,
        min: usize,
        max: usize,
        errors: &mut Errors,
    ) -> Field<String> {
        self.checked(name, min, max, Lines::Name, errors)
    }

    /// A nullable one-line free-text string: empty after trimming counts as null.
    pub fn text(&mut self, name: &'static str, max: usize, errors: &mut Errors) -> Field<String> {
        match self.string(name, 0, max, errors) {
            Field::Value(s) if s.is_empty() => Field::Null,
            other => other,
        }
    }

    /// A nullable multi-line free text ([`Lines::Many`], e.g. `theme`): line feeds allowed,
    /// other controls refused; empty after trimming counts as null.
    pub fn paragraphs(
        &mut self,
        name: &'static str,
        max: usize,
        errors: &mut Errors,
    ) -> Field<String> {
        match self.checked(name, 0, max, Lines::Many, errors) {
            Field::Value(s) if s.is_empty() => Field::Null,
            other => other,
        }
    }

    fn checked(
        &mut self,
        name: &'static str,
        min: usize,
        max: usize,
        lines: Lines,
        errors: &mut Errors,
    ) -> Field<String> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => {
                let t = clean(s, lines)?;
                let n = t.chars().count();
                if n < min || n > max {
                    if min > 0 && n == 0 {
                        Err("must not be empty".to_string())
                    } else {
                        Err(format!("must be {min} to {max} characters"))
                    }
                } else {
                    Ok(t)
                }
            }
            other => Err(format!("must be a string, not {}", type_name(other))),
        })
    }

    /// One of `allowed`.
    pub fn one_of(
        &mut self,
        name: &'static str,
        allowed: &[&'static str],
        errors: &mut Errors,
    ) -> Field<&'static str> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => allowed
                .iter()
                .find(|a| **a == s.trim())
                .copied()
                .ok_or_else(|| format!("must be one of: {}", allowed.join(", "))),
            other => Err(format!("must be a string, not {}", type_name(other))),
        })
    }

    /// A calendar date `YYYY-MM-DD`.
    pub fn date(&mut self, name: &'static str, errors: &mut Errors) -> Field<NaiveDate> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => parse_date(s.trim()),
            other => Err(format!("must be a date string, not {}", type_name(other))),
        })
    }

    /// An instant as RFC 3339 with an offset (`2026-03-01T17:00:00+01:00`), rounded to the
    /// microseconds PostgreSQL stores.
    pub fn instant(&mut self, name: &'static str, errors: &mut Errors) -> Field<DateTime<Utc>> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => offset_date_time(s.trim())
                .map(|t| t.with_timezone(&Utc).round_subsecs(6))
                .ok_or_else(|| {
                    "must be an RFC 3339 date-time with an offset, such as 2026-03-01T17:00:00Z"
                        .to_string()
                }),
            other => Err(format!(
                "must be a date-time string, not {}",
                type_name(other)
            )),
        })
    }

    /// A UUID.
    pub fn uuid(&mut self, name: &'static str, errors: &mut Errors) -> Field<Uuid> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => Uuid::parse_str(s.trim()).map_err(|_| "must be a UUID".to_string()),
            other => Err(format!("must be a UUID string, not {}", type_name(other))),
        })
    }

    /// A boolean.
    pub fn boolean(&mut self, name: &'static str, errors: &mut Errors) -> Field<bool> {
        self.typed(name, errors, |v| match v {
            Value::Bool(b) => Ok(*b),
            other => Err(format!("must be a boolean, not {}", type_name(other))),
        })
    }

    /// An integer in `min..=max`.
    pub fn integer(
        &mut self,
        name: &'static str,
        min: i64,
        max: i64,
        errors: &mut Errors,
    ) -> Field<i32> {
        self.typed(name, errors, |v| match v.as_i64() {
            Some(n) if n >= min && n <= max => {
                i32::try_from(n).map_err(|_| "is out of range".to_string())
            }
            Some(_) => Err(format!("must be an integer from {min} to {max}")),
            // A number too large for i64, or with a fraction, is a number: the message says
            // what is wanted, not "an integer, not a number" (a new user's trial).
            None if v.is_number() => Err(format!("must be an integer from {min} to {max}")),
            None => Err(format!("must be an integer, not {}", type_name(v))),
        })
    }

    /// A country as alpha-2, alpha-3 or any name of the gazetteer ([`CountryIndex::parse`]),
    /// normalised to alpha-2; a name of several countries ("Korea") is refused, naming them.
    pub fn country(
        &mut self,
        name: &'static str,
        countries: &CountryIndex,
        errors: &mut Errors,
    ) -> Field<String> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => countries.parse(s).map(str::to_string),
            other => Err(format!(
                "must be a country code or name, not {}",
                type_name(other)
            )),
        })
    }

    /// An IANA time zone name (`Asia/Shanghai`).
    pub fn time_zone(&mut self, name: &'static str, errors: &mut Errors) -> Field<chrono_tz::Tz> {
        self.typed(name, errors, |v| match v {
            Value::String(s) => s
                .trim()
                .parse::<chrono_tz::Tz>()
                .map_err(|_| "must be an IANA time zone such as Asia/Shanghai".to_string()),
            other => Err(format!(
                "must be a time zone string, not {}",
                type_name(other)
            )),
        })
    }

    /// An absolute `http` or `https` URL of at most `max` characters.
    pub fn url(&mut self, name: &'static str, max: usize, errors: &mut Errors) -> Field<String> {
        match self.string(name, 0, max, errors) {
            Field::Value(s) if s.is_empty() => Field::Null,
            Field::Value(s) => {
                let lower = s.to_ascii_lowercase();
                let rest = lower
                    .strip_prefix("https://")
                    .or_else(|| lower.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !s.contains(char::is_whitespace) => {
                        Field::Value(s)
                    }
                    _ => {
                        errors.push(self.path(name), "must be an http or https URL");
                        Field::Invalid
                    }
                }
            }
            other => other,
        }
    }

    /// An email address ([`check_email`]: one `@` with something on both sides, no white
    /// space, no part that mixes scripts).
    pub fn email(&mut self, name: &'static str, errors: &mut Errors) -> Field<String> {
        match self.string(name, 3, 320, errors) {
            Field::Value(s) => match check_email(&s) {
                Ok(()) => Field::Value(s),
                Err(message) => {
                    errors.push(self.path(name), message);
                    Field::Invalid
                }
            },
            other => other,
        }
    }

    /// A list of UUIDs (at most `max`), without duplicates.
    pub fn uuid_list(
        &mut self,
        name: &'static str,
        max: usize,
        errors: &mut Errors,
    ) -> Field<Vec<Uuid>> {
        self.typed(name, errors, |v| match v {
            Value::Array(items) if items.len() > max => {
                Err(format!("must have at most {max} items"))
            }
            Value::Array(items) => {
                let mut out: Vec<Uuid> = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let id = item
                        .as_str()
                        .and_then(|s| Uuid::parse_str(s.trim()).ok())
                        .ok_or_else(|| format!("item {i} must be a UUID"))?;
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
                Ok(out)
            }
            other => Err(format!("must be an array, not {}", type_name(other))),
        })
    }

    /// Records a "required" error when `field` is absent or null; returns the value if valid.
    pub fn required<T>(&self, name: &str, field: Field<T>, errors: &mut Errors) -> Option<T> {
        match field {
            Field::Value(v) => Some(v),
            Field::Absent | Field::Null => {
                errors.push(self.path(name), "is required");
                None
            }
            Field::Invalid => None,
        }
    }

    /// For PATCH of a non-nullable field: `Some(v)` when given, `None` when absent; an explicit
    /// null records an error.
    pub fn not_null<T>(&self, name: &str, field: Field<T>, errors: &mut Errors) -> Option<T> {
        match field {
            Field::Value(v) => Some(v),
            Field::Null => {
                errors.push(self.path(name), "must not be null");
                None
            }
            Field::Absent | Field::Invalid => None,
        }
    }

    /// Refuses every field that was not read: unknown fields can never be set by a client.
    pub fn finish(self, errors: &mut Errors) {
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !self.known.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            errors.push(join(&self.prefix, key), "unknown field");
        }
    }
}

/// An RFC 3339 date-time with an offset (`2026-10-20T10:30:00+09:00`, `...Z`), also without
/// its seconds (`2026-10-20T10:30+09:00`), as people type it and ISO 8601 allows; `None` for
/// anything else (a local time without an offset among them).
pub fn offset_date_time(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    // `YYYY-MM-DDTHH:MM` and then the offset: add `:00` and read it again.
    let (minutes, offset) = (s.get(..16)?, s.get(16..)?);
    let shaped = minutes.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T' || b == b't' || b == b' ',
        13 => b == b':',
        _ => b.is_ascii_digit(),
    });
    if !shaped || !offset.starts_with(['+', '-', 'Z', 'z']) {
        return None;
    }
    DateTime::parse_from_rfc3339(&format!("{minutes}:00{offset}")).ok()
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    if s.len() != 10 {
        return Err("must be a date YYYY-MM-DD".to_string());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD".to_string())
}

/// The one check of an email address, wherever one is input (the API's bodies through
/// [`Obj::email`], `plenary organiser add`): a mailbox as people write one, `local@domain`
/// with
/// - a local part of at most 64 bytes in the dot-atom form of RFC 5322 §3.4.1 (letters and
///   digits of any script, as RFC 6531 allows, and ``!#$%&'*+-/=?^_`{|}~``; dots only between
///   them): no quoted strings, no white space;
/// - a domain name of two or more labels (RFC 1035 §2.3.1 and RFC 5890: letters and digits of
///   any script and inner hyphens, at most 63 bytes a label and 253 in all): no address
///   literal such as `[127.0.0.1]`, no single label such as `localhost`;
///
/// and neither the local part nor any label of the domain mixing scripts (UTS #39
/// single-script, via `unicode-security`: a Cyrillic "о" among Latin letters is refused, an
/// all-Cyrillic or all-Han part is fine; digits and punctuation belong to every script).
/// Errors: the message of the field error.
pub fn check_email(s: &str) -> Result<(), &'static str> {
    use unicode_security::MixedScript;
    const NOT_AN_ADDRESS: &str = "must be an email address such as name@example.org";
    let Some((local, domain)) = s.split_once('@') else {
        return Err(NOT_AN_ADDRESS);
    };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if !local_ok || domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(NOT_AN_ADDRESS);
    }
    let single = |part: &str| part.is_single_script();
    if !single(local) || !domain.split('.').all(single) {
        return Err("must not mix scripts (such as a Cyrillic letter among Latin ones)");
    }
    Ok(())
}

/// The one check of an uploaded PDF (a letter of credentials): it begins with `%PDF-` (ISO
/// 32000-1 §7.5.2), `lopdf` reads its cross-reference table and objects, and it has at least
/// one page. A parser's panic counts as a refusal. CPU-bound (a 5 MiB file takes up to a few
/// hundred milliseconds in a debug build): run it off the async workers. Errors: the message
/// of the field error.
pub fn check_pdf(bytes: &[u8]) -> Result<(), &'static str> {
    const REFUSED: &str = "a letter of credentials must be a PDF document (ISO 32000) with at \
                           least one page";
    if !bytes.starts_with(b"%PDF-") {
        return Err(REFUSED);
    }
    let pages = std::panic::catch_unwind(|| {
        lopdf::Document::load_mem(bytes).map_or(0, |d| d.get_pages().len())
    });
    match pages {
        Ok(n) if n > 0 => Ok(()),
        _ => Err(REFUSED),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_email, check_pdf, Errors, Obj};

    /// Findings of the second probe: HTML behind the magic and a bare magic were stored.
    #[test]
    fn only_pdf_documents_pass() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n\
<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n3 0 obj\n\
<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>\nendobj\nxref\n0 4\n\
0000000000 65535 f \n0000000009 00000 n \n0000000054 00000 n \n0000000105 00000 n \n\
trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n";
        assert_eq!(check_pdf(pdf), Ok(()));
        for bad in [
            &b"%PDF-1.4\n<html><script>alert(1)</script>"[..],
            b"%PDF-",
            b"%PDF-1.4\n% fuzz fixture\n%%EOF\n",
            b"GIF89a",
            b"",
        ] {
            assert!(
                check_pdf(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// A new user's trial: `"size": 99999999999999999999` was "must be an integer, not a
    /// number".
    #[test]
    fn a_number_out_of_range_is_named_as_out_of_range() {
        for size in ["99999999999999999999", "1e30", "2.5", "-1"] {
            let body: serde_json::Value =
                serde_json::from_str(&format!("{{\"size\": {size}}}")).expect("json");
            let mut errors = Errors::new();
            let mut obj = Obj::new(&body, "", &mut errors).expect("object");
            let _ = obj.integer("size", 0, 1000, &mut errors);
            let fields = errors.into_fields().expect_err("refused");
            let text = format!("{fields:?}");
            assert!(text.contains("from 0 to 1000"), "{size}: {text}");
        }
    }

    #[test]
    fn emails_that_mix_scripts_are_refused() {
        assert!(check_email("focal.point@example.org").is_ok());
        assert!(check_email("иван@пример.рф").is_ok());
        assert!(check_email("李明@例子.中国").is_ok());
        assert!(check_email("user-1_x@mail2.example.org").is_ok());
        // A Cyrillic "о" (U+043E) among Latin letters, in the local part or the domain.
        assert!(check_email("b\u{43e}b@example.org").is_err());
        assert!(check_email("bob@ex\u{430}mple.org").is_err());
        assert!(check_email("no-at-sign").is_err());
        assert!(check_email("a b@example.org").is_err());
        assert!(check_email("a@b@c").is_err());
        // Once accepted: an address literal, a single label, quoted or dotted oddities.
        for bad in [
            "x@[127.0.0.1]",
            "x@localhost",
            "\"a b\"@example.org",
            ".a@example.org",
            "a..b@example.org",
            "a@-example.org",
            "a@example..org",
            "a@example.org.",
            "a<b>@example.org",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email("o'brien+plenary@mail.example.org").is_ok());
        assert!(check_email("müller@bücher.example").is_ok());
    }
}
