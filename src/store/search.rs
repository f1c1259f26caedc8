//! Full-text search of conferences (`GET /conferences?q=`), PostgreSQL's English
//! configuration.
//!
//! `conferences.search` is a generated `tsvector` (title weight A, theme B, venue name, city and
//! region C; migration `2025-11-30-000005_attendance_publishing`) with the GIN index
//! `conferences_search_idx`. `q` is read by `websearch_to_tsquery('english', q)`: words are
//! stemmed ("migrations" finds "Migration"), `"quoted phrases"`, `or` and `-word` work, and
//! stop words alone match nothing.
//!
//! Ranking and paging: with `q`, results are ordered by `ts_rank(search, query)` descending,
//! then newest `start_date`, then id; the cursor encodes that triple (the rank as the bits of
//! its `real` value, so it compares exactly), and the next page is the rows strictly after it
//! in that order. A row inserted while paging takes its place without repeating or skipping a
//! row that existed; only a row whose text changes while paging can move.

use diesel::dsl::sql;
use diesel::expression::{SqlLiteral, UncheckedBind};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Date, Float4, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::conferences::{filtered, ConferenceFilter, ConferenceRow};
use super::{paginate, Caller, Page, PageRequest};
use crate::db::schema::conferences;
use crate::domain::conference::Conference;

/// The keyset of a ranked search: `(rank as f32 bits, start_date, id)`.
pub type RankedKey = (u32, chrono::NaiveDate, uuid::Uuid);

/// The name of the GIN index that serves `?q=` (asserted by the plan test).
pub const SEARCH_INDEX: &str = "conferences_search_idx";

/// A SQL fragment with one bound text parameter.
pub type Fragment<ST> =
    SqlLiteral<ST, UncheckedBind<SqlLiteral<ST>, diesel::dsl::AsExprOf<String, Text>>>;

/// `conferences.search @@ websearch_to_tsquery('english', q)`: the predicate the GIN index
/// serves.
pub fn matches(q: &str) -> Fragment<Bool> {
    sql::<Bool>("conferences.search @@ websearch_to_tsquery('english', ")
        .bind::<Text, _>(q.to_string())
        .sql(")")
}

/// `ts_rank(conferences.search, websearch_to_tsquery('english', q))`, a `real`.
fn rank(q: &str) -> Fragment<Float4> {
    sql::<Float4>("ts_rank(conferences.search, websearch_to_tsquery('english', ")
        .bind::<Text, _>(q.to_string())
        .sql("))")
}

/// Conferences visible to `caller` matching `filter` (whose `q` must be set), best match
/// first; see the module documentation for the order and the cursor.
pub async fn ranked(
    conn: &mut AsyncPgConnection,
    filter: &ConferenceFilter,
    caller: Option<Caller>,
    page: &PageRequest<RankedKey>,
) -> QueryResult<Page<Conference>> {
    let q = filter.q.clone().unwrap_or_default();
    let mut query = filtered(filter, caller)
        .select((ConferenceRow::as_select(), rank(&q)))
        .order((
            rank(&q).desc(),
            conferences::start_date.desc(),
            conferences::id.desc(),
        ))
        .limit(page.limit + 1);
    if let Some((bits, date, id)) = page.after {
        // Row comparison: strictly after the cursor in (rank, start_date, id) descending.
        query = query.filter(
            sql::<Bool>("(ts_rank(conferences.search, websearch_to_tsquery('english', ")
                .bind::<Text, _>(q.clone())
                .sql(")), conferences.start_date, conferences.id) < (")
                .bind::<Float4, _>(f32::from_bits(bits))
                .sql(", ")
                .bind::<Date, _>(date)
                .sql(", ")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .sql(")"),
        );
    }
    let rows: Vec<(ConferenceRow, f32)> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |(c, r)| (r.to_bits(), c.start_date, c.id),
        |(c, _)| Conference::from(c),
    ))
}
