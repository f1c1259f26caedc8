//! The `Idempotency-Key` middleware for `POST` (draft-ietf-httpapi-idempotency-key-header):
//! a retry with the same key and body replays the first response and creates nothing; the
//! same key with another body is 422; a retry while the first is still running is 409. Keys
//! are scoped to the organiser of the bearer token and kept in PostgreSQL for 24 hours, so
//! several Plenary instances share them.
//!
//! Exactly once, crashes included: the request that owns a key runs with a
//! [`keys::Slot`]; its handler answers through [`respond`], which tells the audited-write
//! driver how the response is rendered, so the driver stores it in the write's own
//! transaction. A process that dies after COMMIT but before answering leaves the response
//! stored: the retry replays it. What no audited write answered (errors, refusals) is stored
//! here after the handler. A claim whose request died before committing is taken over after
//! [`keys::ABANDONED_AFTER_SECONDS`] (nothing was written, so running again is right).
//!
//! Access before replay: the store's access checks a keyed request passes
//! ([`standing::conference`], [`standing::organiser`]) are kept with its response
//! ([`keys::ReplayCheck`]), and a replay makes them again with the caller's current grants,
//! answering the first refusal instead of the stored response.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use crate::auth::caller_of;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::idempotency::{self as keys, StoredResponse};
use crate::store::{standing, StoreError};
use diesel_async::AsyncPgConnection;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on replayed responses.
pub const REPLAYED: &str = "idempotent-replayed";
/// Debug builds only: `after-commit` makes the request's task panic right after its write
/// commits (its connection drops unanswered), `after-commit-abort` aborts the process there.
/// Release builds ignore it.
pub const FAILPOINT: &str = "plenary-failpoint";
/// Response headers stored and replayed with the body.
const KEPT_HEADERS: &[&str] = &["content-type", "location", "etag", "retry-after"];

/// The active organiser of the request's bearer token, authenticated as the handlers'
/// extractors are, and once for both ([`caller_of`]: the token verifies and its account
/// exists and is not disabled; the answer is kept in the request for the extractor). `None`
/// without a token or when the token is refused (401): the request then runs without the key
/// and its handler answers (401 for a bad token or a dead account), writing nothing. Errors:
/// authentication that could not be answered (503 when no database connection is available,
/// 500): the request is answered with it and does not run, since its handler could
/// authenticate a moment later and write without the key, so that a retry would run again
/// instead of replaying.
async fn organiser_of(req: &ServiceRequest) -> Result<Option<Caller>, ApiError> {
    match caller_of(req.request().clone()).await {
        Ok(caller) => Ok(caller),
        Err(ApiError::Unauthorized(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The middleware function (use with `actix_web::middleware::from_fn`): a `POST` with an
/// `Idempotency-Key` from an authenticated organiser (see [`organiser_of`]) is hashed, then either claims the key and
/// runs (its response stored), or is answered from the key's record without running. Every
/// other request runs untouched.
///
/// Errors (answered as problem+json, the handler not run): 422 for a malformed key or a key
/// reused with another request; 409 while the key's first request is still running; 503 when
/// no database connection is available (to authenticate the caller or to claim the key); the extractor's error when the body cannot be read.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match read_key(&req) {
        None => return run(req, next).await,
        Some(Err(e)) => return Ok(req.into_response(e.error_response())),
        Some(Ok(key)) => key,
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return run(req, next).await;
    };
    let caller = match organiser_of(&req).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return run(req, next).await,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let hash = match hash_request(&mut req).await {
        Ok(hash) => hash,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let organiser = caller.id;
    match claim_or_answer(&state, caller, &key, &hash).await {
        Claim::Owned => {}
        Claim::Unscoped => return run(req, next).await,
        Claim::Answered(response) => return Ok(req.into_response(response)),
    }
    // This request owns the key: run it with its slot, then store its response unless its
    // write already did (in the write's transaction).
    let slot = keys::Slot::new(organiser, &key, &hash, failpoint(&req));
    let res = keys::with_slot(slot.clone(), next.call(req)).await?;
    if slot.stored().is_some() {
        return Ok(res.map_into_boxed_body());
    }
    Ok(store_response(&state, caller, &slot, &key, &hash, res).await)
}

/// The failpoint a debug build's request asks for ([`FAILPOINT`]); always `None` in release
/// builds.
fn failpoint(req: &ServiceRequest) -> Option<keys::Failpoint> {
    if !cfg!(debug_assertions) {
        return None;
    }
    match req.headers().get(FAILPOINT)?.to_str().ok()? {
        "after-commit" => Some(keys::Failpoint::Panic),
        "after-commit-abort" => Some(keys::Failpoint::Abort),
        _ => None,
    }
}

/// Answers a handler's audited write exactly once: `render` is the handler's (pure) success
/// response for the write's result. When the request owns an `Idempotency-Key`, the driver
/// renders and stores it in the write's transaction, and what is sent is that stored
/// response, byte for byte; otherwise `render(result)` is sent. Errors: the write's.
pub async fn respond<T: 'static>(
    write: impl std::future::Future<Output = Result<T, StoreError>>,
    render: impl Fn(&T) -> HttpResponse + Send + Sync + 'static,
) -> Result<HttpResponse, ApiError> {
    let render = std::sync::Arc::new(render);
    let slot = keys::current();
    if let Some(slot) = &slot {
        let render = render.clone();
        slot.expect(move |value: &T| stored_form(render(value)));
    }
    let value = write.await?;
    match slot.and_then(|slot| slot.stored()) {
        Some(stored) => Ok(rebuild(&stored)),
        None => Ok(render(&value)),
    }
}

/// The prefix of the keys of portal forms, so that they never meet an API client's keys.
const FORM_KEY_PREFIX: &str = "portal-form:";

/// A portal form's write, once per form ([`crate::portal`]): every form the portal renders
/// carries a fresh random `form_key`, and a second submission of the same form (a double
/// click, a reload of the POST, a retry after a lost answer) gets the first one's answer
/// instead of writing again. It is the `Idempotency-Key` machinery with the form key as the
/// key and `caller` as its owner: `run` answers through [`respond`], so a successful
/// write stores its answer (the redirect) in its own transaction; the same access checks
/// are made again before a replay. A form whose write stored nothing (a refusal shown on the
/// form) lets its key go, so the corrected form can be sent with it again.
///
/// Answers `run`'s answer, or the stored one (a replay), or a problem+json answer: 409
/// while the first submission still runs, 422 for the same key with another form.
pub async fn once_per_form<F>(
    state: &AppState,
    caller: Caller,
    form_key: &str,
    form_fingerprint: &str,
    run: F,
) -> Result<HttpResponse, ApiError>
where
    F: std::future::Future<Output = Result<HttpResponse, ApiError>>,
{
    let key = format!("{FORM_KEY_PREFIX}{form_key}");
    match claim_or_answer(state, caller, &key, form_fingerprint).await {
        Claim::Owned => {}
        Claim::Unscoped => return run.await,
        Claim::Answered(response) => return Ok(response),
    }
    let slot = keys::Slot::new(caller.id, &key, form_fingerprint, None);
    let answer = keys::with_slot(slot.clone(), run).await;
    if slot.stored().is_none() {
        let mut conn = state.conn().await?;
        if let Err(e) = keys::release(&mut conn, caller.id, &key).await {
            tracing::warn!(error = %e, "releasing a portal form's key");
        }
    }
    answer
}

/// The hex SHA-256 of `first` and `parts`, NUL-separated: what a retry must repeat exactly
/// to be answered as the first request was (an API request: method, URI, `Content-Type`,
/// body; a portal form: its path and its fields).
pub fn fingerprint<'a>(first: &str, parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(first);
    for part in parts {
        hasher.update([0]);
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Like [`respond`], for a response that carries a secret shown once (an invitation code):
/// this request sends `render`, while what is stored for a retry with the same key is
/// `redacted` (the secret left out), so the secret is never written to the database.
/// Errors: the write's.
pub async fn respond_once<T: 'static>(
    write: impl std::future::Future<Output = Result<T, StoreError>>,
    render: impl Fn(&T) -> HttpResponse,
    redacted: impl Fn(&T) -> HttpResponse + Send + Sync + 'static,
) -> Result<HttpResponse, ApiError> {
    if let Some(slot) = keys::current() {
        slot.expect(move |value: &T| stored_form(redacted(value)));
    }
    let value = write.await?;
    Ok(render(&value))
}

/// A response as stored: its status, [`KEPT_HEADERS`] and body; `None` for a streamed body.
fn stored_form(response: HttpResponse) -> Option<StoredResponse> {
    let (head, body) = response.into_parts();
    let body = body.try_into_bytes().ok()?;
    Some(StoredResponse {
        status: head.status().as_u16(),
        headers: kept_headers(head.headers()),
        body: body.to_vec(),
    })
}

/// Runs the rest of the chain, the key ignored.
async fn run(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The trimmed `Idempotency-Key` of a `POST`; `None` for other methods or without the header.
/// Errors: 422 when the value is not visible ASCII, is blank or is longer than 255 bytes.
fn read_key(req: &ServiceRequest) -> Option<Result<String, ApiError>> {
    if req.method() != Method::POST {
        return None;
    }
    let value = req.headers().get(HEADER)?;
    Some(match value.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => Ok(k.trim().to_string()),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )),
    })
}

/// Reads the whole body and puts it back for the handler; answers the hex SHA-256 of the
/// method, URI, `Content-Type` and body (NUL-separated), which a retry must repeat exactly.
/// Errors: the body extractor's (413 over the body limit, 400 for a broken stream).
async fn hash_request(req: &mut ServiceRequest) -> Result<String, actix_web::Error> {
    let body = req.extract::<web::Bytes>().await?;
    let uri = req.uri().to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let hash = fingerprint(
        req.method().as_str(),
        [uri.as_bytes(), content_type, &body[..]],
    );
    req.set_payload(actix_web::dev::Payload::from(body));
    Ok(hash)
}

/// What [`claim_or_answer`] decided.
enum Claim {
    /// This request owns the key: run it and store its response.
    Owned,
    /// The organiser no longer exists: run the request without a key (the handler answers
    /// 401).
    Unscoped,
    /// Answer this instead of running the request: a replay or an error.
    Answered(HttpResponse),
}

/// Claims `key` for this request, or answers from the key's record (see [`answer_from`]).
/// Database errors are answered (503, 500). The connection is returned to the pool before the
/// handler runs.
async fn claim_or_answer(state: &AppState, caller: Caller, key: &str, hash: &str) -> Claim {
    let organiser = caller.id;
    let mut conn = match state.conn().await {
        Ok(c) => c,
        Err(e) => return Claim::Answered(e.error_response()),
    };
    let found = match keys::claim(&mut conn, organiser, key, hash).await {
        Ok(true) => return Claim::Owned,
        Ok(false) => match keys::find(&mut conn, organiser, key).await {
            Ok(found) => found,
            Err(e) => return Claim::Answered(ApiError::from(e).error_response()),
        },
        // The organiser no longer exists (foreign key): let the handler answer 401.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => return Claim::Unscoped,
        Err(e) => return Claim::Answered(ApiError::from(e).error_response()),
    };
    Claim::Answered(answer_from(&conn, caller, found, hash).await)
}

/// The answer to a request whose key is already taken, from the key's record: 409 while the
/// first request runs (no record yet, or no response stored yet); 422 when the record is of
/// another request (another hash); the refusal of the first of the record's access checks
/// ([`keys::ReplayCheck`]) that `caller` no longer passes (401, 403, 404 as for the write
/// itself); otherwise the stored response, replayed.
async fn answer_from(
    conn: &AsyncPgConnection,
    caller: Caller,
    found: Option<keys::KeyRecord>,
    hash: &str,
) -> HttpResponse {
    let record = match found {
        None => {
            return ApiError::Conflict(
                "a request with this Idempotency-Key is still running".into(),
            )
            .error_response()
        }
        Some(record) if record.request_hash != hash => {
            return ApiError::field(
                "Idempotency-Key",
                "was already used with a different request; use a new key",
            )
            .error_response()
        }
        Some(record) => record,
    };
    match record.response_status {
        None => ApiError::Conflict(
            "a request with this Idempotency-Key is still running; retry later".into(),
        )
        .error_response(),
        Some(status) => match passes_again(conn, caller, &record).await {
            Ok(()) => replay(status, record),
            Err(e) => e.error_response(),
        },
    }
}

/// Makes the access checks of a stored record again for `caller`, in order. Errors: the
/// first refusal; a database error; 500 for a record whose checks cannot be read.
async fn passes_again(
    conn: &AsyncPgConnection,
    caller: Caller,
    record: &keys::KeyRecord,
) -> Result<(), ApiError> {
    let checks = keys::replay_checks(record)
        .map_err(|e| ApiError::Internal(format!("stored Idempotency-Key checks: {e}")))?;
    for check in checks {
        match check {
            keys::ReplayCheck::Conference { conference, need } => {
                standing::conference(conn, Some(caller), conference, need).await?;
            }
            keys::ReplayCheck::Organiser => standing::organiser(caller)?,
        }
    }
    Ok(())
}

/// The stored response of a key ([`rebuild`]) plus `Idempotent-Replayed: true`.
fn replay(status: i32, record: keys::KeyRecord) -> HttpResponse {
    let stored = StoredResponse {
        status: u16::try_from(status).unwrap_or(200),
        headers: record.response_headers.unwrap_or_default(),
        body: record.response_body.unwrap_or_default(),
    };
    let mut response = rebuild(&stored);
    response.headers_mut().insert(
        HeaderName::from_static(REPLAYED),
        HeaderValue::from_static("true"),
    );
    response
}

/// A stored response as sent: its status (200 if unreadable), headers and body.
fn rebuild(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(headers) = stored.headers.as_object() {
        for (name, value) in headers {
            if let (Ok(n), Some(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().and_then(|v| HeaderValue::from_str(v).ok()),
            ) {
                response.insert_header((n, v));
            }
        }
    }
    response.body(stored.body.clone())
}

/// Stores the response of a request whose write did not store it (an error, a refusal) under
/// the key (status, [`KEPT_HEADERS`], body) and passes it on; a server error (5xx) releases
/// the key instead, so that a retry runs again. When another request with the key stored its
/// response first (it took the key over), that one is replayed instead: every request with
/// a key gets the first stored answer. A failure to store is logged, not answered; 503 when
/// no connection is available to store it.
async fn store_response<B: MessageBody>(
    state: &AppState,
    caller: Caller,
    slot: &keys::Slot,
    key: &str,
    hash: &str,
    res: ServiceResponse<B>,
) -> ServiceResponse<BoxBody> {
    let organiser = caller.id;
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.unwrap_or_default();
    let mut conn = match state.conn().await {
        Ok(c) => c,
        Err(e) => return ServiceResponse::new(http_req, e.error_response()),
    };
    let stored = if status.is_server_error() {
        keys::release(&mut conn, organiser, key)
            .await
            .map(|()| true)
    } else {
        let response = StoredResponse {
            status: status.as_u16(),
            headers: kept_headers(head.headers()),
            body: bytes.to_vec(),
        };
        keys::complete(&mut conn, organiser, key, &response, &slot.checks()).await
    };
    match stored {
        Ok(true) => {}
        Ok(false) => {
            if let Ok(found @ Some(_)) = keys::find(&mut conn, organiser, key).await {
                let answer = answer_from(&conn, caller, found, hash).await;
                return ServiceResponse::new(http_req, answer);
            }
        }
        Err(e) => tracing::warn!(error = %e, "storing the Idempotency-Key response"),
    }
    ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes)))
}

/// The [`KEPT_HEADERS`] of a response that are visible ASCII, as a JSON object of strings.
fn kept_headers(headers: &header::HeaderMap) -> serde_json::Value {
    let mut kept = serde_json::Map::new();
    for name in KEPT_HEADERS {
        if let Some(v) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            kept.insert(
                (*name).to_string(),
                serde_json::Value::String(v.to_string()),
            );
        }
    }
    serde_json::Value::Object(kept)
}
