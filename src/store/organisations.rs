//! Organisations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{like_pattern, lower, new_id, paginate, Page, PageRequest};
use crate::db::schema::{conferences, delegations, organisations};
use crate::domain::organisation::{Organisation, OrganisationChanges};
use crate::error::ApiError;

/// An organisation row (the same shape as the API's).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    /// UUID v7.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Acronym.
    pub acronym: Option<String>,
    /// Kind.
    pub kind: String,
    /// Alpha-2.
    pub country: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl From<OrganisationRow> for Organisation {
    fn from(r: OrganisationRow) -> Self {
        Organisation {
            id: r.id,
            name: r.name,
            acronym: r.acronym,
            kind: r.kind,
            country: r.country,
            website: r.website,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl OrganisationRow {
    /// A new row from the fields of a validated `POST`.
    pub fn new(c: OrganisationChanges) -> Self {
        let now = Utc::now();
        Self {
            id: new_id(),
            name: c.name.unwrap_or_default(),
            acronym: c.acronym.flatten(),
            kind: c.kind.unwrap_or("other").to_string(),
            country: c.country.flatten(),
            website: c.website.flatten(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Applies a validated `PATCH`.
    pub fn apply(&mut self, c: OrganisationChanges) {
        if let Some(v) = c.name {
            self.name = v;
        }
        if let Some(v) = c.acronym {
            self.acronym = v;
        }
        if let Some(v) = c.kind {
            self.kind = v.to_string();
        }
        if let Some(v) = c.country {
            self.country = v;
        }
        if let Some(v) = c.website {
            self.website = v;
        }
        self.updated_at = Utc::now();
    }
}

/// Filters of the organisation list.
#[derive(Debug, Default)]
pub struct OrganisationFilter {
    /// Matches name or acronym (case-insensitive substring).
    pub q: Option<String>,
    /// Exact kind.
    pub kind: Option<&'static str>,
    /// Alpha-2.
    pub country: Option<String>,
}

/// Organisations ordered by id (creation order).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &OrganisationFilter,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<Organisation>> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .order(organisations::id.asc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(q) = &filter.q {
        let pattern = like_pattern(q);
        query = query.filter(
            organisations::name
                .ilike(pattern.clone())
                .or(organisations::acronym.ilike(pattern)),
        );
    }
    if let Some(kind) = filter.kind {
        query = query.filter(organisations::kind.eq(kind));
    }
    if let Some(country) = &filter.country {
        query = query.filter(organisations::country.eq(country.clone()));
    }
    if let Some(after) = page.after {
        query = query.filter(organisations::id.gt(after));
    }
    let rows = query.load(conn).await?;
    Ok(paginate(rows, page.limit, |r| r.id, Organisation::from))
}

/// One organisation.
pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// One organisation by name, regardless of letter case.
pub async fn find_by_name(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .filter(lower(organisations::name).eq(lower(name)))
        .select(OrganisationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Inserts an organisation. Errors: 409 when the name exists in any letter case.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    row: &OrganisationRow,
) -> Result<OrganisationRow, ApiError> {
    Ok(diesel::insert_into(organisations::table)
        .values(row)
        .returning(OrganisationRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Writes every column of `row`. Errors: 409 on a duplicate name.
pub async fn update(
    conn: &mut AsyncPgConnection,
    row: &OrganisationRow,
) -> Result<OrganisationRow, ApiError> {
    Ok(diesel::update(organisations::table.find(row.id))
        .set(row)
        .returning(OrganisationRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Deletes an organisation. Errors: 404 when absent, 409 while a delegation or a conference
/// refers to it.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), ApiError> {
    let used_by_delegation: bool = diesel::select(diesel::dsl::exists(
        delegations::table.filter(delegations::organisation_id.eq(id)),
    ))
    .get_result(conn)
    .await?;
    let used_by_conference: bool = diesel::select(diesel::dsl::exists(
        conferences::table.filter(conferences::host_organisation_id.eq(id)),
    ))
    .get_result(conn)
    .await?;
    if used_by_delegation || used_by_conference {
        return Err(ApiError::Conflict(
            "the organisation still has delegations or hosts a conference".to_string(),
        ));
    }
    let n = diesel::delete(organisations::table.find(id))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(ApiError::NotFound("no such organisation".to_string()));
    }
    Ok(())
}

/// The ids among `ids` that name no organisation.
pub async fn missing(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Uuid> = organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(organisations::id)
        .load(conn)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect())
}
