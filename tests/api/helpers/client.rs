//! Every request goes through [`Client`], which checks each response against
//! `api-spec/openapi.yaml` (see `contract.rs`) and panics when it does not conform: a handler
//! change that the spec does not reflect fails the test that exercises it.

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Status and JSON body of a response (Null when the body is empty or not JSON).
pub async fn status_json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

/// An HTTP client for the test server that checks every response against the spec. It does
/// not follow redirects, so that each response is checked as the server sent it.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    log: Arc<Mutex<Vec<(String, String, u16)>>>,
}

impl Client {
    /// A client with no redirects.
    pub fn new() -> Self {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self {
            inner,
            log: Arc::default(),
        }
    }

    /// Every exchange so far, as (`METHOD`, path, status).
    pub fn log(&self) -> Vec<(String, String, u16)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// A request with `method` to `url`.
    pub fn request(&self, method: Method, url: impl reqwest::IntoUrl) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            inner: self.inner.request(method, url),
        }
    }

    /// A GET request.
    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request.
    pub fn post(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A checked PATCH.
    pub fn patch(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A checked PUT.
    pub fn put(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A checked DELETE.
    pub fn delete(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

/// A request being built; [`RequestBuilder::send`] checks the response against the spec.
pub struct RequestBuilder {
    client: Client,
    inner: reqwest::RequestBuilder,
}

impl RequestBuilder {
    /// `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        Self {
            inner: self.inner.bearer_auth(token),
            ..self
        }
    }

    /// Adds a header.
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        Self {
            inner: self.inner.header(name, value.as_ref()),
            ..self
        }
    }

    /// Adds query parameters.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        Self {
            inner: self.inner.query(query),
            ..self
        }
    }

    /// A raw body.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Self {
            inner: self.inner.body(body),
            ..self
        }
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json<T: serde::Serialize + ?Sized>(self, body: &T) -> Self {
        Self {
            inner: self.inner.json(body),
            ..self
        }
    }

    /// Sends the request and checks the response against `api-spec/openapi.yaml`.
    ///
    /// Panics when the response does not conform to the spec, saying how.
    pub async fn send(self) -> Result<Response, reqwest::Error> {
        let request = self.inner.build()?;
        let method = request.method().to_string();
        let path = request.url().path().to_string();
        let query = request.url().query().map(str::to_string);
        let request_content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request_body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec);
        let r = reqwest::Client::execute(&self.client.inner, request).await?;
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await?.to_vec();
        let exchange = crate::contract::Exchange {
            method: &method,
            path: &path,
            query: query.as_deref(),
            request_content_type: request_content_type.as_deref(),
            request_body: request_body.as_deref(),
            status: status.as_u16(),
            headers: &headers,
            body: &body,
        };
        if let Err(e) = crate::contract::spec().check(&exchange) {
            panic!(
                "the response to {method} {path}{} does not conform to api-spec/openapi.yaml:\n{e}\n\
                 response body: {}",
                query.as_deref().map(|q| format!("?{q}")).unwrap_or_default(),
                String::from_utf8_lossy(&body[..body.len().min(2000)])
            );
        }
        if let Ok(mut log) = self.client.log.lock() {
            log.push((method, path, status.as_u16()));
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// A response that conforms to the spec (checked on arrival).
#[derive(Debug)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The value of header `name` as text (empty when absent or not visible ASCII).
    pub fn header_text(&self, name: &str) -> String {
        self.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The raw body (as `reqwest::Response::bytes`).
    pub async fn bytes(self) -> Result<Vec<u8>, std::convert::Infallible> {
        Ok(self.body)
    }

    /// The body as JSON.
    pub async fn json<T: DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    /// The body as text.
    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }
}

/// Asserts that `body` is an RFC 9457 problem with `status` and returns its field names.
pub fn problem_fields(body: &Value, status: u16) -> Vec<String> {
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
