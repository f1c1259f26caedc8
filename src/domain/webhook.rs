//! Webhooks (API.md, "Notifications: e-mail and webhooks"): what `POST .../webhooks` may
//! contain, checked once. Whether the URL's host is an internal address is judged where names
//! are resolved (`crate::notify::webhook::check_destination`), not here: it needs the network.

use serde_json::Value;

use super::input::{Errors, Invalid, Obj};

/// The webhook event types (API.md, "Webhooks"); `*` subscribes to all of them.
pub const EVENT_TYPES: &[&str] = &[
    "conference.updated",
    "delegation.created",
    "delegation.updated",
    "delegation.deleted",
    "member.created",
    "member.updated",
    "member.deleted",
    "nomination.decided",
    "credentials.submitted",
    "credentials.reviewed",
    "edition.published",
    "presence.updated",
    "check_in.recorded",
];

/// What subscribes to every event type.
pub const ALL_EVENTS: &str = "*";

/// The longest webhook URL, in characters.
pub const MAX_URL: usize = 2048;

/// A webhook to register: where deliveries go and which events they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// An absolute `http` or `https` URL without userinfo, as the `url` crate serialises it
    /// (scheme and host in lower case, IDNA host names in ASCII).
    pub url: url::Url,
    /// Event types of [`EVENT_TYPES`] without duplicates, in the order given; or `["*"]`.
    pub events: Vec<String>,
}

/// Reads `{"url", "events"}`. Errors (every one at once): `url` missing, not a string, longer
/// than [`MAX_URL`], not absolute `http`/`https`, without a host or with userinfo; `events`
/// missing, not an array, empty, or `events[i]` not a known event type; unknown fields.
pub fn parse_webhook(value: &Value) -> Result<NewWebhook, Invalid> {
    let mut errors = Errors::new();
    let mut url = None;
    let mut events = None;
    if let Some(mut o) = Obj::new(value, "", &mut errors) {
        let raw_url = o.string("url", 1, MAX_URL, &mut errors);
        if let Some(raw) = o.required("url", raw_url, &mut errors) {
            match parse_url(&raw) {
                Ok(u) => url = Some(u),
                Err(m) => errors.push("url", m),
            }
        }
        let raw_events = o.raw("events");
        if let Some(raw) = o.required("events", raw_events, &mut errors) {
            match parse_events(raw) {
                Ok(e) => events = Some(e),
                Err(fields) => {
                    for (field, message) in fields {
                        errors.push(field, message);
                    }
                }
            }
        }
        o.finish(&mut errors);
    }
    errors.check()?;
    match (url, events) {
        (Some(url), Some(events)) => Ok(NewWebhook { url, events }),
        _ => Err(Invalid(vec![super::input::FieldError::new(
            "url",
            "is required",
        )])),
    }
}

/// An absolute `http`/`https` URL with a host and no userinfo. Errors: why not.
pub fn parse_url(raw: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(raw).map_err(|e| format!("must be an absolute URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an https:// or http:// URL".into());
    }
    if parsed.host().is_none() {
        return Err("must name a host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if parsed.as_str().chars().count() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    Ok(parsed)
}

/// The event list: known types, duplicates dropped (first occurrence kept); `*` (alone or
/// among others) is `["*"]`. Errors: `(field, message)` pairs naming `events` or `events[i]`.
fn parse_events(raw: &Value) -> Result<Vec<String>, Vec<(String, String)>> {
    let Value::Array(items) = raw else {
        return Err(vec![(
            "events".into(),
            "must be an array of event types".into(),
        )]);
    };
    if items.is_empty() {
        return Err(vec![(
            "events".into(),
            "must name at least one event type, or \"*\" for all".into(),
        )]);
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(str::trim) {
            Some(e) if e == ALL_EVENTS || EVENT_TYPES.contains(&e) => {
                if !out.iter().any(|o| o == e) {
                    out.push(e.to_string());
                }
            }
            Some(e) => errors.push((
                format!("events[{i}]"),
                format!(
                    "unknown event type {e:?}; one of {}, or \"*\"",
                    EVENT_TYPES.join(", ")
                ),
            )),
            None => errors.push((format!("events[{i}]"), "must be a string".into())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if out.iter().any(|e| e == ALL_EVENTS) {
        out = vec![ALL_EVENTS.to_string()];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Vec<String> {
        match parse_webhook(&v) {
            Ok(_) => Vec::new(),
            Err(Invalid(e)) => e.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn a_valid_webhook_is_read_with_its_events_deduplicated() {
        let w = parse_webhook(&json!({
            "url": " https://Hooks.Example.org/plenary ",
            "events": ["member.created", "member.created", "delegation.updated"]
        }));
        let w = w.expect("valid");
        assert_eq!(w.url.as_str(), "https://hooks.example.org/plenary");
        assert_eq!(w.events, vec!["member.created", "delegation.updated"]);
        let all =
            parse_webhook(&json!({"url": "http://a.example/", "events": ["*", "member.created"]}));
        assert_eq!(all.expect("valid").events, vec!["*"]);
    }

    #[test]
    fn bad_urls_and_events_are_named() {
        assert_eq!(
            fields(json!({"url": "ftp://x.example/", "events": ["*"]})),
            ["url"]
        );
        assert_eq!(
            fields(json!({"url": "https://u:p@x.example/", "events": ["*"]})),
            ["url"]
        );
        assert_eq!(
            fields(json!({"url": "/relative", "events": ["*"]})),
            ["url"]
        );
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL));
        assert_eq!(fields(json!({"url": long, "events": ["*"]})), ["url"]);
        assert_eq!(
            fields(json!({"url": "https://x.example/", "events": ["member.created", "nope", 3]})),
            ["events[1]", "events[2]"]
        );
        assert_eq!(
            fields(json!({"url": "https://x.example/", "events": []})),
            ["events"]
        );
        assert_eq!(fields(json!({"url": "https://x.example/"})), ["events"]);
        assert_eq!(
            fields(json!({"url": "https://x.example/", "events": ["*"], "secret": "x"})),
            ["secret"]
        );
    }
}
