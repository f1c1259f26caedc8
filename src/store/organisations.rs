//! Organisations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::write::{self, Audited, Scope, UNCONDITIONAL};
use super::{like_pattern, lower, new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::db::schema::{conferences, delegations, organisations};
use crate::domain::organisation::{name_skeleton, Organisation, OrganisationChanges};
use crate::domain::precondition::IfMatch;

/// An organisation row (the same shape as the API's).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true, treat_none_as_default_value = false)]
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
    /// [`name_skeleton`] of `name` (unique: look-alike names are one name); kept in step with
    /// `name` by [`OrganisationRow::new`] and [`OrganisationRow::apply`].
    pub name_skeleton: Option<String>,
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
            name_skeleton: c.name.as_deref().map(name_skeleton),
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
            self.name_skeleton = Some(name_skeleton(&v));
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

impl Audited for OrganisationRow {
    const KIND: ResourceKind = ResourceKind::Organisation;
    type Repr = Organisation;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Organisation {
        Organisation::from(self.clone())
    }
}

/// Inserts an organisation and records it in the audit log. Errors: 409 when the name exists
/// in any letter case or as a look-alike (same [`name_skeleton`]).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    row: OrganisationRow,
) -> Result<OrganisationRow, StoreError> {
    let scope = Scope::outside(Some(caller), UNCONDITIONAL);
    write::create(conn, scope, async |conn| Ok(insert(conn, &row).await?)).await
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

async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<OrganisationRow, StoreError> {
    organisations::table
        .find(id)
        .for_update()
        .select(OrganisationRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found("no such organisation"))
}

/// Applies a validated `PATCH` if `if_match` holds. Errors: 404, 412, 409 (duplicate name).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    changes: OrganisationChanges,
) -> Result<OrganisationRow, StoreError> {
    write::update(
        conn,
        Scope::outside(Some(caller), if_match),
        async |conn| lock(conn, id).await,
        async |conn, before| {
            let mut row = before.clone();
            row.apply(changes.clone());
            Ok(diesel::update(organisations::table.find(id))
                .set(&row)
                .returning(OrganisationRow::as_returning())
                .get_result(conn)
                .await?)
        },
    )
    .await
}

/// Deletes an organisation if `if_match` holds. Errors: 404, 412, and 409 while a delegation or
/// a conference refers to it.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    write::delete(
        conn,
        Scope::outside(Some(caller), if_match),
        async |conn| lock(conn, id).await,
        async |conn, _| {
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
                return Err(StoreError::Conflict(
                    "the organisation still has delegations or hosts a conference".to_string(),
                ));
            }
            diesel::delete(organisations::table.find(id))
                .execute(conn)
                .await?;
            Ok(())
        },
    )
    .await
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

/// Brings every organisation's `name_skeleton` in step with its name (run at start, after the
/// migrations, like the ISO table: the migration that added the column cannot compute TR39
/// skeletons in SQL, and a newer Unicode table may change them). A row whose skeleton is
/// already another organisation's (look-alike names stored before the rule) keeps its old
/// value and is returned, so the caller can report it; it stays writable.
pub async fn sync_skeletons(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(Uuid, String)>> {
    let rows: Vec<(Uuid, String, Option<String>)> = organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::name_skeleton,
        ))
        .order(organisations::id.asc())
        .load(conn)
        .await?;
    let mut clashes = Vec::new();
    for (id, name, stored) in rows {
        let skeleton = name_skeleton(&name);
        if stored.as_deref() == Some(skeleton.as_str()) {
            continue;
        }
        let taken: bool = diesel::select(diesel::dsl::exists(
            organisations::table.filter(
                organisations::name_skeleton
                    .eq(&skeleton)
                    .and(organisations::id.ne(id)),
            ),
        ))
        .get_result(conn)
        .await?;
        if taken {
            clashes.push((id, name));
            continue;
        }
        diesel::update(organisations::table.find(id))
            .set(organisations::name_skeleton.eq(&skeleton))
            .execute(conn)
            .await?;
    }
    Ok(clashes)
}
