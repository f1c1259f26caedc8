//! ISO 3166-1 countries (read-only reference data).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{like_pattern, paginate, Page, PageRequest};
use crate::db::schema::{countries, country_aliases};

/// A country as returned by the API.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = countries)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// ISO 3166-1 alpha-3.
    pub alpha3: String,
    /// ISO 3166-1 numeric, three digits.
    pub numeric: String,
    /// English short name (ISO 3166-1).
    pub name: String,
    /// English official name.
    pub official_name: String,
    /// United Nations English short name (UN M49 "Country or Area"), or the ISO short name
    /// for an area M49 does not list.
    pub un_name: String,
    /// UN M49 region.
    pub region: Option<String>,
    /// UN M49 subregion.
    pub subregion: Option<String>,
}

/// Countries ordered by alpha-2; `q` matches codes, names and aliases (case-insensitive).
pub async fn list(
    conn: &mut AsyncPgConnection,
    q: Option<&str>,
    page: &PageRequest<String>,
) -> QueryResult<Page<Country>> {
    let mut query = countries::table
        .select(Country::as_select())
        .order(countries::code.asc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(q) = q {
        let pattern = like_pattern(&q.to_lowercase());
        let upper = q.trim().to_uppercase();
        let alias_codes = country_aliases::table
            .filter(country_aliases::alias.like(pattern.clone()))
            .select(country_aliases::code);
        query = query.filter(
            countries::code
                .eq(upper.clone())
                .or(countries::alpha3.eq(upper))
                .or(countries::name.ilike(pattern.clone()))
                .or(countries::un_name.ilike(pattern.clone()))
                .or(countries::official_name.ilike(pattern))
                .or(countries::code.eq_any(alias_codes)),
        );
    }
    if let Some(after) = &page.after {
        query = query.filter(countries::code.gt(after.clone()));
    }
    let rows = query.load(conn).await?;
    Ok(paginate(rows, page.limit, |c| c.code.clone(), |c| c))
}

/// One country by alpha-2.
pub async fn get(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Country>> {
    countries::table
        .find(code)
        .select(Country::as_select())
        .first(conn)
        .await
        .optional()
}
