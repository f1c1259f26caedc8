//! The store's error type: what a query or a write can fail with, in the store's own terms.
//! The store knows no HTTP; [`crate::error::ApiError`] maps each variant to a status and an
//! RFC 9457 problem type (`impl From<StoreError> for ApiError`).

use crate::access::Refusal;
use crate::domain::input::{FieldError, Invalid};

/// Everything a store function can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input breaks a rule only the database can check (a reference to a missing row,
    /// sessions outside changed dates...): every offending field (HTTP 422).
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// No such row, or one the caller may not see (HTTP 404). The message names the resource.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write conflicts with the current state: a duplicate, dependants (HTTP 409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A focal point's write to members after the conference's `nominations_close_at`
    /// (HTTP 409, `/problems/nominations-closed`).
    #[error("nominations are closed")]
    NominationsClosed,
    /// The write would take a delegation past a quota; the message names it (HTTP 409,
    /// `/problems/quota-exceeded`).
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// `If-Match` names a representation that is no longer current (HTTP 412).
    #[error("the resource has changed since the If-Match tag was issued")]
    Stale,
    /// An access rule of [`crate::access`] refused the caller (HTTP 401, 403 or 404).
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// No pooled connection within the pool's timeout (HTTP 503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Any other database error; unique and foreign-key violations become 409s, lost
    /// connections 503s, the rest 500s (see `ApiError`'s conversion).
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl StoreError {
    /// An [`StoreError::Invalid`] for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A [`StoreError::NotFound`] with `message` (e.g. "no such member in this delegation").
    pub fn not_found(message: impl Into<String>) -> Self {
        StoreError::NotFound(message.into())
    }

    /// True for errors a transaction should simply be run again on: serialization failures
    /// (SQLSTATE 40001) and deadlocks (40P01).
    pub fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Database(Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                _,
            )) => true,
            StoreError::Database(Error::DatabaseError(_, info)) => {
                info.message().contains("deadlock detected")
            }
            _ => false,
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        StoreError::Refused(r)
    }
}

impl From<Vec<FieldError>> for StoreError {
    fn from(errors: Vec<FieldError>) -> Self {
        StoreError::Invalid(errors)
    }
}

impl From<Invalid> for StoreError {
    fn from(Invalid(errors): Invalid) -> Self {
        StoreError::Invalid(errors)
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}
