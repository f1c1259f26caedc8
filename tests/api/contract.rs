//! The contract: `api-spec/openapi.yaml`, loaded once, and the check that every response of the
//! test suite goes through (see `helpers::Client`).
//!
//! For each request the checker finds the spec operation (path template and method) and then
//! requires: the status is listed for the operation (an unknown path must be a 404 problem and a
//! path without that method a 405 problem with `Allow`); the `Content-Type` is one the spec
//! lists for that status, and an empty body where it lists none; a JSON body validates against
//! the response schema (JSON Schema 2020-12, formats asserted); every header the spec marks
//! `required` is present and valid. When the server accepted the request (2xx), its query
//! parameters must be declared and valid, and its JSON body must validate against the request
//! schema: the spec may not be stricter than the server, nor the server looser than the spec.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The parsed spec and a cache of compiled schema validators.
pub struct Spec {
    /// The whole document, as JSON.
    pub doc: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The spec of this checkout, parsed once per test run.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api-spec/openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Spec::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// Escapes one JSON-pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The media type without parameters, lower case (`application/json; charset=utf-8` ->
/// `application/json`).
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// What one exchange looked like, for [`Spec::check`].
pub struct Exchange<'a> {
    /// `GET`, `POST` ...
    pub method: &'a str,
    /// The path, percent-encoded as sent, without the query.
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The request's `Content-Type`, if any.
    pub request_content_type: Option<&'a str>,
    /// The request body, if any.
    pub request_body: Option<&'a [u8]>,
    /// The response status.
    pub status: u16,
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The response body.
    pub body: &'a [u8],
}

impl Spec {
    /// Parses a YAML OpenAPI document.
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let mut doc: Value = serde_yaml::from_str(yaml).map_err(|e| format!("not YAML: {e}"))?;
        apply_strict(&mut doc);
        if !doc["paths"].is_object() {
            return Err("no paths".to_string());
        }
        Ok(Self {
            doc,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// Every operation of the spec as (`METHOD`, path template), sorted.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut ops = Vec::new();
        if let Some(paths) = self.doc["paths"].as_object() {
            for (path, item) in paths {
                for m in METHODS {
                    if item.get(m).is_some() {
                        ops.push((m.to_ascii_uppercase(), path.clone()));
                    }
                }
            }
        }
        ops.sort();
        ops
    }

    /// The value at `pointer`, following `$ref`s to this document; returns the final pointer.
    pub fn resolve(&self, pointer: &str) -> Result<(String, &Value), String> {
        let mut pointer = pointer.to_string();
        for _ in 0..16 {
            let value = self
                .doc
                .pointer(&pointer)
                .ok_or_else(|| format!("the spec has nothing at #{pointer}"))?;
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    pointer = r
                        .strip_prefix('#')
                        .ok_or_else(|| format!("external $ref {r} at #{pointer}"))?
                        .to_string();
                }
                None => return Ok((pointer, value)),
            }
        }
        Err(format!("$ref loop at #{pointer}"))
    }

    /// The path template that matches `path` best (most literal segments), if any.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let actual: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|template| {
                let segments: Vec<&str> = template.split('/').collect();
                if segments.len() != actual.len() {
                    return None;
                }
                // Literal segments weigh 2, a parameter with a literal suffix (`{number}.csv`)
                // 1, a bare parameter 0: the most specific template wins.
                let mut literal = 0;
                for (t, a) in segments.iter().zip(&actual) {
                    if t.starts_with('{') && t.ends_with('}') {
                        if a.is_empty() {
                            return None;
                        }
                    } else if let Some(suffix) = t
                        .strip_prefix('{')
                        .and_then(|t| t.split_once('}').map(|(_, suffix)| suffix))
                    {
                        if a.len() <= suffix.len() || !a.ends_with(suffix) {
                            return None;
                        }
                        literal += 1;
                    } else if t == a {
                        literal += 2;
                    } else {
                        return None;
                    }
                }
                Some((literal, template))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, t)| t.clone())
    }

    /// Validates `instance` against the schema at `pointer` (formats asserted).
    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(pointer)?;
        if validator.is_valid(instance) {
            return Ok(());
        }
        // Every failing keyword, also inside the branches of a `oneOf`/`anyOf`.
        let evaluation = validator.evaluate(instance);
        let mut errors: Vec<String> = evaluation
            .iter_errors()
            .map(|e| {
                let at = e.instance_location.to_string();
                format!(
                    "at '{}': {} (schema {})",
                    if at.is_empty() { "/" } else { &at },
                    e.error,
                    e.schema_location
                )
            })
            .collect();
        errors.dedup();
        Err(format!(
            "does not match the schema #{pointer}:\n  {}",
            errors.join("\n  ")
        ))
    }

    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .map_err(|_| "validator cache poisoned".to_string())?;
        if let Some(v) = cache.get(pointer) {
            return Ok(v.clone());
        }
        // The schema is compiled with the whole document as its root, so that every `$ref` to
        // `#/components/...` resolves; the root only refers to the schema at `pointer`.
        let mut root = self.doc.clone();
        if let Some(obj) = root.as_object_mut() {
            obj.insert(
                "$schema".to_string(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
            obj.insert("$ref".to_string(), json!(format!("#{}", fragment(pointer))));
        }
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the schema at #{pointer} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(pointer.to_string(), validator.clone());
        Ok(validator)
    }

    /// Checks one exchange against the spec; the error says every way it does not conform.
    pub fn check(&self, x: &Exchange<'_>) -> Result<(), String> {
        let method = x.method.to_ascii_lowercase();
        let Some(template) = self.template_for(x.path) else {
            // An unknown route: a 404 problem.
            if x.status != 404 {
                return Err(format!(
                    "{} is not a path of the spec, yet the status is {} (expected 404)",
                    x.path, x.status
                ));
            }
            return self.check_response(x, "/components/responses/NotFound");
        };
        let item_pointer = format!("/paths/{}", escape(&template));
        let (item_pointer, item) = self.resolve(&item_pointer)?;
        if method == "head" && item.get("get").is_some() {
            // HEAD is GET without a body (RFC 9110 §9.3.2); the spec lists GET only.
            return Ok(());
        }
        if item.get(&method).is_none() {
            // A known path without this method: a 405 problem with `Allow`.
            if x.status != 405 {
                return Err(format!(
                    "{} {template} is not an operation of the spec, yet the status is {} \
                     (expected 405)",
                    x.method, x.status
                ));
            }
            let mut listed: Vec<String> = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_ascii_uppercase())
                .collect();
            listed.sort();
            let mut allow: Vec<String> = x
                .headers
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .filter(|m| !m.is_empty())
                .collect();
            allow.sort();
            if allow != listed {
                return Err(format!(
                    "405 on {template}: Allow is {allow:?}, the spec lists {listed:?}"
                ));
            }
            return self.check_response(x, "/components/responses/MethodNotAllowed");
        }
        let op_pointer = format!("{item_pointer}/{method}");
        let responses = self
            .doc
            .pointer(&format!("{op_pointer}/responses"))
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{} {template} has no responses", x.method))?;
        let status = x.status.to_string();
        let range = format!("{}XX", x.status / 100);
        let key = [status.as_str(), range.as_str(), "default"]
            .into_iter()
            .find(|k| responses.contains_key(*k))
            .ok_or_else(|| {
                format!(
                    "{} {template} answered {}, a status the spec does not list for it \
                     (it lists {:?})",
                    x.method,
                    x.status,
                    responses.keys().collect::<Vec<_>>()
                )
            })?;
        let result = self.check_response(x, &format!("{op_pointer}/responses/{}", escape(key)));
        let result = match result {
            Ok(()) if (200..300).contains(&x.status) => {
                self.check_accepted_request(x, &item_pointer, &op_pointer)
            }
            other => other,
        };
        result.map_err(|e| format!("{} {template} -> {}: {e}", x.method, x.status))
    }

    /// Content type, body and headers of a response against the response object at `pointer`.
    fn check_response(&self, x: &Exchange<'_>, pointer: &str) -> Result<(), String> {
        let (pointer, response) = self.resolve(pointer)?;
        let content_type = x
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(essence);
        match response.get("content").and_then(Value::as_object) {
            None => {
                if !x.body.is_empty() {
                    return Err(format!(
                        "the spec lists no body, but the response has {} bytes ({:?})",
                        x.body.len(),
                        content_type
                    ));
                }
            }
            Some(content) => {
                let ct =
                    content_type.ok_or_else(|| "the response has no Content-Type".to_string())?;
                let key = content
                    .keys()
                    .find(|k| {
                        let k = k.to_ascii_lowercase();
                        k == ct
                            || k == "*/*"
                            || k.strip_suffix("/*")
                                .is_some_and(|top| ct.starts_with(&format!("{top}/")))
                    })
                    .ok_or_else(|| {
                        format!(
                            "Content-Type {ct} is not among {:?}",
                            content.keys().collect::<Vec<_>>()
                        )
                    })?;
                let schema_pointer = format!("{pointer}/content/{}/schema", escape(key));
                if is_json(&ct) {
                    let body: Value = serde_json::from_slice(x.body)
                        .map_err(|e| format!("the {ct} body is not JSON: {e}"))?;
                    if self.doc.pointer(&schema_pointer).is_some() {
                        self.validate(&schema_pointer, &body).map_err(|e| {
                            format!("the body {e}\n  body: {}", truncate(&body.to_string()))
                        })?;
                    }
                }
            }
        }
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                if name.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                let header_pointer = format!("{pointer}/headers/{}", escape(name));
                let (header_pointer, header) = self.resolve(&header_pointer)?;
                let value = x.headers.get(name.as_str()).and_then(|v| v.to_str().ok());
                match value {
                    None if header["required"] == true => {
                        return Err(format!("the required header {name} is missing"));
                    }
                    None => {}
                    Some(value) => {
                        let schema_pointer = format!("{header_pointer}/schema");
                        if self.doc.pointer(&schema_pointer).is_some() {
                            let instance = self.coerce(&schema_pointer, value);
                            self.validate(&schema_pointer, &instance)
                                .map_err(|e| format!("header {name}: {value:?} {e}"))?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A query or header value as the JSON the schema at `pointer` expects.
    fn coerce(&self, pointer: &str, raw: &str) -> Value {
        let schema = self
            .resolve(pointer)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if types.contains(&"integer") || types.contains(&"number") {
            if let Ok(n) = raw.parse::<i64>() {
                return json!(n);
            }
        }
        if types.contains(&"boolean") && (raw == "true" || raw == "false") {
            return json!(raw == "true");
        }
        json!(raw)
    }

    /// For an accepted request: declared, valid query parameters and a valid JSON body.
    fn check_accepted_request(
        &self,
        x: &Exchange<'_>,
        item_pointer: &str,
        op_pointer: &str,
    ) -> Result<(), String> {
        let mut declared: HashMap<String, String> = HashMap::new();
        for base in [item_pointer, op_pointer] {
            let count = self
                .doc
                .pointer(&format!("{base}/parameters"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                let (p, param) = self.resolve(&format!("{base}/parameters/{i}"))?;
                if param["in"] == "query" {
                    if let Some(name) = param["name"].as_str() {
                        declared.insert(name.to_string(), format!("{p}/schema"));
                    }
                }
            }
        }
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(x.query.unwrap_or("")).unwrap_or_default();
        for (name, value) in pairs {
            let schema = declared.get(&name).ok_or_else(|| {
                format!("the server accepted the query parameter {name:?}, which the spec does not declare")
            })?;
            let instance = self.coerce(schema, &value);
            self.validate(schema, &instance).map_err(|e| {
                format!("the server accepted ?{name}={value:?}, which the spec refuses: {e}")
            })?;
        }
        let (Some(body), Some(ct)) = (x.request_body, x.request_content_type) else {
            return Ok(());
        };
        let ct = essence(ct);
        let request_pointer = format!("{op_pointer}/requestBody");
        if self.doc.pointer(&request_pointer).is_none() {
            return Ok(());
        }
        let (request_pointer, request) = self.resolve(&request_pointer)?;
        if request["content"].get(&ct).is_none() {
            return Err(format!(
                "the server accepted a {ct} body, which the spec does not list"
            ));
        }
        if is_json(&ct) {
            let instance: Value = serde_json::from_slice(body)
                .map_err(|e| format!("the server accepted a body that is not JSON: {e}"))?;
            let schema_pointer = format!("{request_pointer}/content/{}/schema", escape(&ct));
            self.validate(&schema_pointer, &instance).map_err(|e| {
                format!(
                    "the server accepted a request body that the spec refuses: it {e}\n  \
                     request: {}",
                    truncate(&instance.to_string())
                )
            })?;
        }
        Ok(())
    }
}

/// A JSON pointer as a URI fragment: `{`, `}` and other characters a fragment may not hold are
/// percent-encoded (RFC 3986 §3.5).
/// Applies every `x-strict` of the document, in place: the JSON Schema keywords a value of that
/// schema also meets but code generators cannot take (api-spec/README.md, "Generated clients").
/// The schema becomes `allOf: [itself without x-strict, x-strict]`, written as the keywords merged
/// into it where none is already there and it has no `$ref` (as `scripts/strict_spec.py` does
/// for the fuzzer).
pub fn apply_strict(node: &mut Value) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(apply_strict),
        Value::Object(map) => {
            map.values_mut().for_each(apply_strict);
            let Some(strict) = map.remove("x-strict") else {
                return;
            };
            let Value::Object(keywords) = strict else {
                panic!("x-strict must be an object of JSON Schema keywords, not {strict}");
            };
            if map.contains_key("$ref") || keywords.keys().any(|k| map.contains_key(k)) {
                let rest = std::mem::take(map);
                map.insert(
                    "allOf".to_string(),
                    json!([Value::Object(rest), Value::Object(keywords)]),
                );
            } else {
                map.extend(keywords);
            }
        }
        _ => {}
    }
}

fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 2000 {
        format!("{}…", s.chars().take(2000).collect::<String>())
    } else {
        s.to_string()
    }
}
