//! Organisations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use diesel_async::AsyncConnection;

use super::audit::{self, Action};
use super::{like_pattern, lower, new_id, paginate, Caller, Page, PageRequest, TxError};
use crate::conditional::IfMatch;
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

/// Inserts an organisation and records it in the audit log. Errors: 409 when the name exists
/// in any letter case.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    row: OrganisationRow,
) -> Result<OrganisationRow, ApiError> {
    crate::retry_tx!({
        let row = row.clone();
        conn.transaction::<_, TxError, _>(async move |conn| {
            let saved = insert(conn, &row).await?;
            let after = Organisation::from(saved.clone());
            audit::record(
                conn,
                caller,
                None,
                Action::Create,
                "organisation",
                saved.id,
                None::<&()>,
                Some(&after),
            )
            .await?;
            Ok(saved)
        })
        .await
    })
}

/// Inserts an organisation row as it is (no audit; used by imports inside their transaction).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    row: &OrganisationRow,
) -> QueryResult<OrganisationRow> {
    diesel::insert_into(organisations::table)
        .values(row)
        .returning(OrganisationRow::as_returning())
        .get_result(conn)
        .await
}

async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<OrganisationRow, TxError> {
    organisations::table
        .find(id)
        .for_update()
        .select(OrganisationRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::NotFound("no such organisation".to_string()).into())
}

/// Applies a validated `PATCH` if `if_match` holds. Errors: 404, 412, 409 (duplicate name).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    changes: OrganisationChanges,
) -> Result<OrganisationRow, ApiError> {
    crate::retry_tx!({
        let changes = changes.clone();
        conn.transaction::<_, TxError, _>(async move |conn| {
            let mut row = lock(conn, id).await?;
            let before = Organisation::from(row.clone());
            if_match.check(&before)?;
            row.apply(changes);
            let saved: OrganisationRow = diesel::update(organisations::table.find(id))
                .set(&row)
                .returning(OrganisationRow::as_returning())
                .get_result(conn)
                .await?;
            let after = Organisation::from(saved.clone());
            audit::record(
                conn,
                caller,
                None,
                Action::Update,
                "organisation",
                id,
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok(saved)
        })
        .await
    })
}

/// Deletes an organisation if `if_match` holds. Errors: 404, 412, and 409 while a delegation or
/// a conference refers to it.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), ApiError> {
    crate::retry_tx!(
        conn.transaction::<_, TxError, _>(async move |conn| {
            let row = lock(conn, id).await?;
            let before = Organisation::from(row);
            if_match.check(&before)?;
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
                )
                .into());
            }
            diesel::delete(organisations::table.find(id))
                .execute(conn)
                .await?;
            audit::record(
                conn,
                caller,
                None,
                Action::Delete,
                "organisation",
                id,
                Some(&before),
                None::<&()>,
            )
            .await?;
            Ok(())
        })
        .await
    )
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
