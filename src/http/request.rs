//! Reading a request for the domain's parsers: the JSON body (its media type, then its
//! syntax) and the query string; and the one table of body limits ([`body_limit`]), which
//! [`crate::http::body_budget`] holds every body to. What the values mean is
//! [`crate::domain`]'s.

use std::net::IpAddr;

use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest};
use serde_json::Value;

use crate::config::TrustedProxies;
use crate::domain::input::Query;
use crate::error::ApiError;

/// The largest request body accepted, in bytes, where [`body_limit`] names no other limit
/// (1 MiB; larger is 413).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The largest body of `/api/v1/auth/*` (16 KiB): a login or an invitation's acceptance is a
/// few hundred bytes, and anyone may send them.
pub const MAX_AUTH_BODY_BYTES: usize = 16 << 10;
/// The largest letter of credentials accepted, in bytes (5 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 5 << 20;

/// The body limit of a request (API.md, "Details"): [`MAX_AUTH_BODY_BYTES`] under
/// `/api/v1/auth/`, the portal's forms' limits under `/portal/` ([`portal_body_limit`]), [`MAX_DOCUMENT_BYTES`] for the `PUT` of a delegation's credentials,
/// [`MAX_BODY_BYTES`] elsewhere. The one table of body limits.
pub fn body_limit(method: &Method, path: &str) -> usize {
    if path.starts_with("/api/v1/auth/") {
        return MAX_AUTH_BODY_BYTES;
    }
    if let Some(portal) = path.strip_prefix("/portal/") {
        return portal_body_limit(portal);
    }
    let credentials = path
        .strip_prefix("/api/v1/conferences/")
        .map(|rest| rest.split('/').collect::<Vec<_>>())
        .is_some_and(|s| s.len() == 4 && s[1] == "delegations" && s[3] == "credentials");
    if credentials && method == Method::PUT {
        MAX_DOCUMENT_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// The room a multipart form's boundaries and other fields take beside its file (64 KiB).
pub const FORM_OVERHEAD_BYTES: usize = 64 << 10;

/// The body limit of a portal form (`path` after `/portal/`): the letter of credentials
/// [`MAX_DOCUMENT_BYTES`] and a spreadsheet [`MAX_BODY_BYTES`], each with
/// [`FORM_OVERHEAD_BYTES`]; the forms before sign-in [`MAX_AUTH_BODY_BYTES`], like
/// `/api/v1/auth/`; other forms [`MAX_BODY_BYTES`].
fn portal_body_limit(path: &str) -> usize {
    if path.ends_with("/credentials") {
        MAX_DOCUMENT_BYTES + FORM_OVERHEAD_BYTES
    } else if path.ends_with("/members/sheet") {
        MAX_BODY_BYTES + FORM_OVERHEAD_BYTES
    } else if path.starts_with("conferences/") {
        MAX_BODY_BYTES
    } else {
        MAX_AUTH_BODY_BYTES
    }
}

/// Checks the content type and parses a JSON body.
///
/// Errors: 415 when the body is not `application/json` (or `application/*+json`), 400 when it
/// is not well-formed JSON or gives a key twice in one object ([`parse_strict`]).
pub fn parse_json(req: &HttpRequest, body: &[u8]) -> Result<Value, ApiError> {
    use actix_web::mime;
    // The media type as actix parses it (RFC 9110 §8.3.1; type, subtype and suffix in lower
    // case); a missing or unparseable header is not JSON.
    let is_json = req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == mime::APPLICATION
            && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
    });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    parse_strict(body)
}

/// Parses JSON text, refusing an object that gives one key twice (API.md, "Details": RFC 8259
/// says names SHOULD be unique, and parsers disagree on which value wins, so such a body is
/// ambiguous). Errors: 400 `bad-request` naming the key and where, 400 `malformed-json` when
/// the text is not JSON.
fn parse_strict(body: &[u8]) -> Result<Value, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde::Deserializer::deserialize_any(&mut de, strict::Strict)
        .and_then(|value| de.end().map(|()| value));
    parsed.map_err(|e| {
        let message = e.to_string();
        match message.strip_prefix(strict::TWICE) {
            Some(rest) => ApiError::BadRequest(format!(
                "the body gives the key {rest}; parsers disagree on which value wins"
            )),
            None => ApiError::MalformedJson(message),
        }
    })
}

/// A `serde_json::Value` built by a visitor that refuses duplicate keys.
mod strict {
    use std::fmt;

    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    /// How a duplicate key's error begins (the parser adds where it was found).
    pub const TWICE: &str = "twice: ";

    /// The visitor (and, for nested values, the seed).
    #[derive(Clone, Copy)]
    pub struct Strict;

    impl<'de> de::DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Strict {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(item) = seq.next_element_seed(Strict)? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if object.contains_key(&key) {
                    return Err(de::Error::custom(format!(
                        "{TWICE}{} twice in one object",
                        Value::String(key)
                    )));
                }
                let value = map.next_value_seed(Strict)?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }
}

/// Decodes the query string into a [`Query`]. Errors: 400 when it is malformed, 422 naming a
/// parameter whose value holds a control character ([`Query::from_pairs`]).
pub fn parse_query(req: &HttpRequest) -> Result<Query, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
    Ok(Query::from_pairs(pairs)?)
}

/// The client address of a request: the TCP peer, unless the peer is a trusted proxy
/// (`PLENARY_TRUSTED_PROXIES`); then the `X-Forwarded-For` entries are read from the right,
/// skipping trusted proxies, and the first other one is the client (the leftmost if all are
/// trusted). A missing or malformed `X-Forwarded-For` leaves the peer. `None` without a peer.
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in req.headers().get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return Some(peer);
        };
        for hop in value.split(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                Err(_) => return Some(peer),
            }
        }
    }
    let client = hops
        .iter()
        .rev()
        .find(|ip| !trusted.contains(**ip))
        .or(hops.first())
        .copied();
    Some(client.unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_limits_by_route() {
        let credentials = "/api/v1/conferences/c/delegations/d/credentials";
        assert_eq!(
            body_limit(&Method::POST, "/api/v1/auth/token"),
            MAX_AUTH_BODY_BYTES
        );
        assert_eq!(body_limit(&Method::PUT, credentials), MAX_DOCUMENT_BYTES);
        assert_eq!(body_limit(&Method::PATCH, credentials), MAX_BODY_BYTES);
        assert_eq!(
            body_limit(
                &Method::PUT,
                "/api/v1/conferences/c/delegations/d/credentials/x"
            ),
            MAX_BODY_BYTES
        );
        assert_eq!(
            body_limit(&Method::POST, "/api/v1/organisations"),
            MAX_BODY_BYTES
        );
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        for body in [
            r#"{"title":"A","title":"B"}"#,
            r#"{"quotas":{"members":1,"members":2}}"#,
            r#"[{"a":1},{"b":2,"b":2}]"#,
        ] {
            match parse_strict(body.as_bytes()) {
                Err(ApiError::BadRequest(m)) => assert!(m.contains("twice"), "{body}: {m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn strict_parsing_keeps_every_value_as_serde_json_does() {
        let body = r#"{"a":[1,-2,3.5,18446744073709551615,1e400,null,true,"\u00e9"],"b":{"c":{}}}"#;
        let strict = parse_strict(body.as_bytes());
        let plain: Result<Value, _> = serde_json::from_str(body);
        match (strict, plain) {
            (Ok(s), Ok(p)) => assert_eq!(s, p),
            (Err(ApiError::MalformedJson(_)), Err(_)) => {}
            (s, p) => panic!("strict {s:?}, serde_json {p:?}"),
        }
        let ok = parse_strict(br#"{"a":{"x":1},"b":{"x":2}}"#);
        assert!(ok.is_ok(), "the same key in two objects is fine: {ok:?}");
        assert!(matches!(
            parse_strict(b"{\"a\":1} trailing"),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
