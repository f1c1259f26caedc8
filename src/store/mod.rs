//! Every database query of Plenary, one module per aggregate. Handlers never build queries;
//! they call these functions with a connection (pooled or inside a transaction).
//!
//! Statements are kept prepared per connection wherever diesel allows: the rows a module
//! inserts derive `Insertable` with `treat_none_as_default_value = false`, so an unset field is
//! bound as NULL (each such column's default is NULL) and a one-row INSERT is the same SQL
//! whatever is set; with `DEFAULT` in its place diesel prepared and planned the INSERT again
//! on every write (the test `a_one_row_insert_is_kept_prepared`).

pub mod attendance;
pub mod audit;
pub mod badges;
pub mod codes;
pub mod conferences;
pub mod countries;
pub mod credentials;
pub mod delegations;
pub mod documents;
pub mod drafting;
pub mod editions;
pub mod error;
pub mod focal_points;
pub mod grants;
pub mod idempotency;
pub mod login_limits;
pub mod members;
pub mod messages;
pub mod organisations;
pub mod organisers;
pub mod outbox;
pub mod participants;
pub mod password_resets;
pub mod portal_sessions;
pub mod presence;
pub mod protocol;
pub mod reference;
pub mod revisions;
pub mod search;
pub mod sessions;
pub mod standing;
pub mod summary;
pub mod watcher;
pub mod webhooks;
pub mod write;

pub use error::StoreError;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::input::{Errors, Query};
// Private: the store's files name it `super::Caller`; everyone else `crate::domain::Caller`.
use crate::domain::Caller;

diesel::define_sql_function! {
    /// SQL `lower(text)`, for comparisons regardless of letter case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The default page size of a list.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page size of a list.
pub const MAX_LIMIT: i64 = 200;

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Opaque cursor of the next page, `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor` of a keyset-paginated list, with the cursor decoded to key `K`.
#[derive(Debug)]
pub struct PageRequest<K> {
    /// Rows per page (1..=200).
    pub limit: i64,
    /// The key of the last row of the previous page.
    pub after: Option<K>,
}

/// A keyset position decoded from a cursor. A cursor is opaque but not secret: a client can
/// forge one, so its key is checked before it reaches the database (a date out of
/// PostgreSQL's range, or a NUL in text, would otherwise be a 500).
pub trait CursorKey: DeserializeOwned {
    /// Whether this key could have come from a row of the list.
    fn is_plausible(&self) -> bool;
}

/// Years a cursor's date may have: every date the API accepts is written `YYYY-MM-DD`.
const CURSOR_YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

impl CursorKey for String {
    fn is_plausible(&self) -> bool {
        !self.contains('\0')
    }
}

impl CursorKey for i64 {
    fn is_plausible(&self) -> bool {
        true
    }
}

impl CursorKey for Uuid {
    fn is_plausible(&self) -> bool {
        true
    }
}

impl CursorKey for (bool, Uuid) {
    fn is_plausible(&self) -> bool {
        true
    }
}

impl CursorKey for (chrono::NaiveDate, Uuid) {
    fn is_plausible(&self) -> bool {
        CURSOR_YEARS.contains(&chrono::Datelike::year(&self.0))
    }
}

impl CursorKey for (chrono::DateTime<chrono::Utc>, Uuid) {
    fn is_plausible(&self) -> bool {
        // An instant on a date of year 0 or 9999 in its zone may fall in the year before or
        // after in UTC.
        let year = chrono::Datelike::year(&self.0);
        (CURSOR_YEARS.start() - 1..=CURSOR_YEARS.end() + 1).contains(&year)
    }
}

impl CursorKey for (bool, Option<chrono::DateTime<chrono::Utc>>, Uuid) {
    fn is_plausible(&self) -> bool {
        self.1.is_none_or(|at| (at, self.2).is_plausible())
    }
}

impl CursorKey for (i64, String, String) {
    fn is_plausible(&self) -> bool {
        !self.1.contains('\0') && !self.2.contains('\0')
    }
}

impl CursorKey for (u32, chrono::NaiveDate, Uuid) {
    fn is_plausible(&self) -> bool {
        CURSOR_YEARS.contains(&chrono::Datelike::year(&self.1))
    }
}

impl CursorKey for (u32, u8, String, Uuid) {
    fn is_plausible(&self) -> bool {
        !self.2.contains('\0')
    }
}

impl<K: CursorKey> PageRequest<K> {
    /// Reads `?limit=` (default 50, 1..200) and `?cursor=`; bad values are recorded as 422s.
    pub fn from_query(query: &Query, errors: &mut Errors) -> Self {
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
            },
        };
        let after = query
            .get("cursor")
            .and_then(|raw| match decode_cursor(raw) {
                Some(k) => Some(k),
                None => {
                    errors.push("cursor", "is not a cursor returned by this list");
                    None
                }
            });
        Self { limit, after }
    }
}

/// Encodes a keyset position as an opaque cursor (base64url of JSON).
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode_cursor<K: CursorKey>(raw: &str) -> Option<K> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice::<K>(&bytes)
        .ok()
        .filter(CursorKey::is_plausible)
}

/// Cuts a page out of `limit + 1` fetched rows: when there is one more row than asked for,
/// the cursor points after the last returned row.
pub fn paginate<R, K: Serialize, T>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> K,
    render: impl FnMut(R) -> T,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(render).collect(),
        next_cursor,
    }
}

/// A round trip to the database (`SELECT 1`), for readiness checks.
pub async fn ping(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT 1")
        .execute(conn)
        .await
        .map(|_| ())
}

/// A new UUID v7 (sorts by creation time).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Escapes `%`, `_` and `\` for a `LIKE`/`ILIKE` pattern and wraps it in `%`.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// Runs `body` in a transaction: COMMIT when it succeeds, ROLLBACK otherwise.
pub(crate) async fn in_transaction<T>(
    conn: &mut diesel_async::AsyncPgConnection,
    body: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::begin_transaction(conn).await?;
    match body(conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(e) => match AnsiTransactionManager::rollback_transaction(conn).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback),
        },
    }
}
