//! Delegations of a conference.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{new_id, paginate, Page, PageRequest, TxError};
use crate::db::schema::delegations;
use crate::domain::delegation::{Delegation, DelegationChanges, Head};
use crate::domain::input::Errors;
use crate::error::ApiError;

/// A delegation row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = delegations, treat_none_as_null = true)]
pub struct DelegationRow {
    /// UUID v7.
    pub id: Uuid,
    /// Conference.
    pub conference_id: Uuid,
    /// Alpha-2.
    pub country: Option<String>,
    /// Organisation.
    pub organisation_id: Option<Uuid>,
    /// Sending authority.
    pub authority: Option<String>,
    /// Role.
    pub role: String,
    /// Status.
    pub status: String,
    /// Head's name.
    pub head_name: Option<String>,
    /// Head's title.
    pub head_title: Option<String>,
    /// Stated size.
    pub size: Option<i32>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl From<DelegationRow> for Delegation {
    fn from(r: DelegationRow) -> Self {
        Delegation {
            id: r.id,
            conference_id: r.conference_id,
            country: r.country,
            organisation_id: r.organisation_id,
            authority: r.authority,
            role: r.role,
            status: r.status,
            head: r.head_name.map(|name| Head {
                name,
                title: r.head_title,
            }),
            size: r.size,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl DelegationRow {
    /// A new row of `conference_id` from a validated `POST` item.
    pub fn new(conference_id: Uuid, c: DelegationChanges) -> Self {
        let now = Utc::now();
        let mut row = Self {
            id: new_id(),
            conference_id,
            country: None,
            organisation_id: None,
            authority: None,
            role: "member".to_string(),
            status: "registered".to_string(),
            head_name: None,
            head_title: None,
            size: None,
            created_at: now,
            updated_at: now,
        };
        row.apply(c);
        row
    }

    /// Applies validated changes.
    pub fn apply(&mut self, c: DelegationChanges) {
        if let Some(v) = c.country {
            self.country = v;
        }
        if let Some(v) = c.organisation_id {
            self.organisation_id = v;
        }
        if let Some(v) = c.authority {
            self.authority = v;
        }
        if let Some(v) = c.role {
            self.role = v.to_string();
        }
        if let Some(v) = c.status {
            self.status = v.to_string();
        }
        if let Some(v) = c.head {
            self.head_name = v.as_ref().map(|h| h.name.clone());
            self.head_title = v.and_then(|h| h.title);
        }
        if let Some(v) = c.size {
            self.size = v;
        }
        self.updated_at = Utc::now();
    }
}

/// Filters of the delegation list.
#[derive(Debug, Default)]
pub struct DelegationFilter {
    /// Exact status.
    pub status: Option<&'static str>,
    /// Exact role.
    pub role: Option<&'static str>,
}

/// Delegations of a conference in creation order.
pub async fn list(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    filter: &DelegationFilter,
    page: &PageRequest<Uuid>,
) -> QueryResult<Page<Delegation>> {
    let mut query = delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .select(DelegationRow::as_select())
        .order(delegations::id.asc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(delegations::status.eq(status));
    }
    if let Some(role) = filter.role {
        query = query.filter(delegations::role.eq(role));
    }
    if let Some(after) = page.after {
        query = query.filter(delegations::id.gt(after));
    }
    let rows = query.load(conn).await?;
    Ok(paginate(rows, page.limit, |r| r.id, Delegation::from))
}

/// One delegation of a conference. Errors: 404.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
) -> Result<DelegationRow, ApiError> {
    delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .filter(delegations::id.eq(id))
        .select(DelegationRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::NotFound("no such delegation in this conference".to_string()))
}

/// Checks that each row's organisation exists; `field(i)` names the row's field prefix.
async fn check_organisations(
    conn: &mut AsyncPgConnection,
    rows: &[DelegationRow],
    field: impl Fn(usize) -> String,
) -> Result<(), ApiError> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.organisation_id).collect();
    let missing = super::organisations::missing(conn, &ids).await?;
    let mut errors = Errors::new();
    for (i, row) in rows.iter().enumerate() {
        if row.organisation_id.is_some_and(|id| missing.contains(&id)) {
            errors.push(field(i), "no organisation has this id");
        }
    }
    errors.check()
}

/// Inserts delegations all or nothing, in one transaction.
///
/// Errors: 422 when an organisation does not exist (naming `items[i].organisation_id` for a
/// batch); 409 when a country or organisation already has a delegation at this conference,
/// also when two requests race (the unique constraints decide).
pub async fn insert_all(
    conn: &mut AsyncPgConnection,
    rows: Vec<DelegationRow>,
    batch: bool,
) -> Result<Vec<DelegationRow>, ApiError> {
    if rows.iter().all(|r| r.organisation_id.is_none()) {
        // Nothing to check first, and one INSERT statement is atomic on its own: skip the
        // BEGIN and COMMIT round trips (benches/RESULTS.md, scenario D).
        return Ok(diesel::insert_into(delegations::table)
            .values(&rows)
            .returning(DelegationRow::as_returning())
            .get_results(conn)
            .await?);
    }
    conn.transaction::<_, TxError, _>(async move |conn| {
        let prefix = |i: usize| {
            if batch {
                format!("items[{i}].organisation_id")
            } else {
                "organisation_id".to_string()
            }
        };
        check_organisations(conn, &rows, prefix).await?;
        let saved = diesel::insert_into(delegations::table)
            .values(&rows)
            .returning(DelegationRow::as_returning())
            .get_results(conn)
            .await?;
        Ok(saved)
    })
    .await
    .map_err(Into::into)
}

/// Applies a validated `PATCH`. Errors: 404, 422 (both or neither of country and organisation,
/// unknown organisation), 409 (duplicate).
pub async fn update(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
    changes: DelegationChanges,
) -> Result<DelegationRow, ApiError> {
    conn.transaction::<_, TxError, _>(async move |conn| {
        let mut row = get(conn, conference_id, id).await?;
        row.apply(changes);
        match (&row.country, &row.organisation_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "organisation_id",
                    "give either country or organisation_id, not both",
                )
                .into())
            }
            (None, None) => {
                return Err(ApiError::field(
                    "country",
                    "one of country and organisation_id is required",
                )
                .into())
            }
            _ => {}
        }
        check_organisations(conn, std::slice::from_ref(&row), |_| {
            "organisation_id".to_string()
        })
        .await?;
        let saved = diesel::update(delegations::table.find(id))
            .set(&row)
            .returning(DelegationRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(saved)
    })
    .await
    .map_err(Into::into)
}

/// Deletes a delegation (its members and session links go with it). Errors: 404.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
) -> Result<(), ApiError> {
    let n = diesel::delete(
        delegations::table
            .filter(delegations::conference_id.eq(conference_id))
            .filter(delegations::id.eq(id)),
    )
    .execute(conn)
    .await?;
    if n == 0 {
        return Err(ApiError::NotFound(
            "no such delegation in this conference".to_string(),
        ));
    }
    Ok(())
}
