//! Delegations of a conference.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::write::{self, Audited, Input, Scope};
use super::{new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::access::{self, Need};
use crate::db::schema::delegations;
use crate::domain::delegation::{Delegation, DelegationChanges, Head};
use crate::domain::input::Errors;
use crate::domain::organisation::OrganisationChanges;
use crate::domain::precondition::IfMatch;
use crate::domain::vocab::{CredentialsStatus, DelegationRole, DelegationStatus};

/// Defines a correlated scalar subquery on a delegation row, `$name`, of SQL type
/// `Nullable<Text>`: `$sql` is the whole parenthesised subquery, and `$column` the column of
/// `delegations` it refers to (so the expression appears wherever that column does). Unlike
/// `diesel::dsl::sql`, whose statements diesel never caches, this has a static query id, so a
/// statement that selects it is prepared once per connection and keeps its generic plan.
macro_rules! delegation_subquery {
    ($(#[$doc:meta])* $name:ident, $column:path, $sql:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, diesel::query_builder::QueryId)]
        pub struct $name;

        impl diesel::expression::Expression for $name {
            type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
        }

        impl<QS> diesel::expression::AppearsOnTable<QS> for $name where
            $column: diesel::expression::AppearsOnTable<QS>
        {
        }

        impl<QS> diesel::expression::SelectableExpression<QS> for $name where
            $column: diesel::expression::SelectableExpression<QS>
        {
        }

        impl<GB> diesel::expression::ValidGrouping<GB> for $name {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
    };
}
pub(crate) use delegation_subquery;

delegation_subquery!(
    /// The `full_name` of a delegation's head member (the one with `is_head`; the partial
    /// unique index `delegation_members_one_head` allows at most one and serves this lookup),
    /// NULL when it has none or its nomination is not accepted (a nominee is no one's head
    /// until the organisers accept it).
    HeadMemberName,
    delegations::id,
    concat!(
        "(SELECT \"delegation_members\".\"full_name\" FROM \"delegation_members\" ",
        "WHERE \"delegation_members\".\"delegation_id\" = \"delegations\".\"id\" ",
        "AND \"delegation_members\".\"is_head\" ",
        "AND \"delegation_members\".\"nomination_status\" = 'accepted')"
    )
);

delegation_subquery!(
    /// The `title` of a delegation's accepted head member, NULL when it has none or it has no
    /// title.
    HeadMemberTitle,
    delegations::id,
    concat!(
        "(SELECT \"delegation_members\".\"title\" FROM \"delegation_members\" ",
        "WHERE \"delegation_members\".\"delegation_id\" = \"delegations\".\"id\" ",
        "AND \"delegation_members\".\"is_head\" ",
        "AND \"delegation_members\".\"nomination_status\" = 'accepted')"
    )
);

/// A delegation row, as stored, with its head member's name and title (read through
/// [`HeadMemberName`] and [`HeadMemberTitle`], never written): [`DelegationRow::head`] is the
/// head of delegation every representation shows.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = delegations, treat_none_as_null = true, treat_none_as_default_value = false)]
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
    pub role: DelegationRole,
    /// Status.
    pub status: DelegationStatus,
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
    /// The status of its letter of credentials, mirrored by `store::credentials` (never set
    /// by a delegation write).
    #[diesel(skip_insertion, skip_update)]
    pub credentials: CredentialsStatus,
    /// The head member's `full_name`, if the delegation has an accepted member with
    /// `is_head` (computed, not a column).
    #[diesel(
        select_expression = HeadMemberName,
        select_expression_type = HeadMemberName,
        skip_insertion,
        skip_update
    )]
    pub head_member_name: Option<String>,
    /// The head member's `title` (computed, not a column; only meaningful with
    /// `head_member_name`).
    #[diesel(
        select_expression = HeadMemberTitle,
        select_expression_type = HeadMemberTitle,
        skip_insertion,
        skip_update
    )]
    pub head_member_title: Option<String>,
}

impl From<DelegationRow> for Delegation {
    fn from(r: DelegationRow) -> Self {
        let head = r.head();
        Delegation {
            id: r.id,
            conference_id: r.conference_id,
            country: r.country,
            organisation_id: r.organisation_id,
            authority: r.authority,
            role: r.role,
            status: r.status,
            head,
            size: r.size,
            credentials: r.credentials,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl DelegationRow {
    /// The head of delegation, one fact: the head member's name and title when an accepted
    /// member has `is_head`, else the head stored on the delegation (`head_name`, `head_title`), else
    /// none.
    pub fn head(&self) -> Option<Head> {
        match &self.head_member_name {
            Some(name) => Some(Head {
                name: name.clone(),
                title: self.head_member_title.clone(),
            }),
            None => self.head_name.as_ref().map(|name| Head {
                name: name.clone(),
                title: self.head_title.clone(),
            }),
        }
    }

    /// A new row of `conference_id` from a validated `POST` item.
    pub fn new(conference_id: Uuid, c: DelegationChanges) -> Self {
        let now = Utc::now();
        let mut row = Self {
            id: new_id(),
            conference_id,
            country: None,
            organisation_id: None,
            authority: None,
            role: DelegationRole::Member,
            status: DelegationStatus::Registered,
            head_name: None,
            head_title: None,
            size: None,
            created_at: now,
            updated_at: now,
            credentials: CredentialsStatus::None,
            head_member_name: None,
            head_member_title: None,
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
            self.role = v;
        }
        if let Some(v) = c.status {
            self.status = v;
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
    pub status: Option<DelegationStatus>,
    /// Exact role.
    pub role: Option<DelegationRole>,
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

impl Audited for DelegationRow {
    const KIND: ResourceKind = ResourceKind::Delegation;
    type Repr = Delegation;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Delegation {
        Delegation::from(self.clone())
    }
    fn conference_id(&self) -> Option<Uuid> {
        Some(self.conference_id)
    }
    fn delegation_id(&self) -> Option<Uuid> {
        Some(self.id)
    }
}

const NO_SUCH_DELEGATION: &str = "no such delegation in this conference";

/// One delegation of a conference. Errors: 404.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
) -> Result<DelegationRow, StoreError> {
    delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .filter(delegations::id.eq(id))
        .select(DelegationRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_DELEGATION))
}

/// Checks that each row's organisation exists; `field(i)` names the row's field prefix.
async fn check_organisations(
    conn: &mut AsyncPgConnection,
    rows: &[DelegationRow],
    field: impl Fn(usize) -> String,
) -> Result<(), StoreError> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.organisation_id).collect();
    let missing = super::organisations::missing(conn, &ids).await?;
    let mut errors = Errors::new();
    for (i, row) in rows.iter().enumerate() {
        if row.organisation_id.is_some_and(|id| missing.contains(&id)) {
            errors.push(field(i), "no organisation has this id");
        }
    }
    Ok(errors.into_fields()?)
}

/// Inserts delegations of conference `conference_id` all or nothing, in one transaction,
/// each recorded in the audit log when an organiser (`caller`) writes them, who must be
/// allowed to change the conference ([`Need::Write`], checked first).
///
/// Errors: 422 for invalid input; 422 when an organisation does not exist (naming
/// `items[i].organisation_id` for a batch); 409 when a country or organisation already has a
/// delegation at this conference, also when two requests race (the unique constraints
/// decide).
pub async fn insert_all(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    input: Input<Vec<(DelegationRow, Option<OrganisationChanges>)>>,
    batch: bool,
) -> Result<Vec<DelegationRow>, StoreError> {
    let scope = Scope {
        actor: caller,
        conference: caller.map(|_| (conference_id, Need::Write)),
        if_match: write::UNCONDITIONAL,
    };
    let prefix = |i: usize| {
        if batch {
            format!("items[{i}].organisation_id")
        } else {
            "organisation_id".to_string()
        }
    };
    write::run(conn, scope, async |tx| {
        let mut rows = Vec::new();
        // Organisations named instead of their ids: found by name in any letter case, or
        // created here (and audited), so the batch stays all or nothing.
        for (mut row, organisation) in input.value()? {
            if let Some(changes) = organisation {
                let name = changes.name.clone().unwrap_or_default();
                let id = match super::organisations::find_by_name(tx.conn, &name).await? {
                    Some(found) => found.id,
                    None => {
                        let created = super::organisations::insert(
                            tx.conn,
                            &super::organisations::OrganisationRow::new(changes),
                        )
                        .await?;
                        tx.created(&created);
                        created.id
                    }
                };
                row.organisation_id = Some(id);
            }
            rows.push(row);
        }
        check_organisations(tx.conn, &rows, prefix).await?;
        let insert = diesel::insert_into(delegations::table);
        // One row is the usual case: its statement is prepared once per connection (a list
        // of rows makes new SQL for each length, never kept prepared).
        let saved: Vec<DelegationRow> = match rows.as_slice() {
            [one] => vec![
                insert
                    .values(one)
                    .returning(DelegationRow::as_returning())
                    .get_result(tx.conn)
                    .await?,
            ],
            _ => {
                insert
                    .values(&rows)
                    .returning(DelegationRow::as_returning())
                    .get_results(tx.conn)
                    .await?
            }
        };
        for d in &saved {
            tx.created(d);
        }
        Ok(saved)
    })
    .await
}

async fn lock(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    id: Uuid,
) -> Result<DelegationRow, StoreError> {
    delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .filter(delegations::id.eq(id))
        .for_update()
        .select(DelegationRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_DELEGATION))
}

/// The message of the 409 for a `PATCH` of `head` on a delegation that has a head member.
pub const HEAD_IS_A_MEMBER: &str = "this delegation's head is its member with is_head: true; \
     change that member (or unset its is_head) instead of head";

/// Applies a `PATCH` if `if_match` holds. In this order: the access check
/// ([`Need::EditDelegation`]), 404, 403 for a focal point's field other than authority, size
/// and head ([`access::delegation_fields`]), 422 for invalid input, 412, 409 (`head` given
/// while a member with an accepted nomination has `is_head`, [`HEAD_IS_A_MEMBER`]), 422 (both
/// or neither of country and organisation, unknown organisation), 409 (duplicate).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
    input: Input<DelegationChanges>,
) -> Result<DelegationRow, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::EditDelegation(id), if_match);
    write::run(conn, scope, async |tx| {
        let before = lock(tx.conn, conference_id, id).await?;
        if let Some(access) = tx.access() {
            access::delegation_fields(access.is_focal_point(id), input.field_names())?;
        }
        let changes = input.value()?;
        tx.precondition(&before)?;
        if changes.head.is_some() && before.head_member_name.is_some() {
            return Err(StoreError::Conflict(HEAD_IS_A_MEMBER.to_string()));
        }
        let mut row = before.clone();
        row.apply(changes);
        match (&row.country, &row.organisation_id) {
            (Some(_), Some(_)) => {
                return Err(StoreError::field(
                    "organisation_id",
                    "give either country or organisation_id, not both",
                ))
            }
            (None, None) => {
                return Err(StoreError::field(
                    "country",
                    "one of country and organisation_id is required",
                ))
            }
            _ => {}
        }
        check_organisations(tx.conn, std::slice::from_ref(&row), |_| {
            "organisation_id".to_string()
        })
        .await?;
        let after = diesel::update(delegations::table.find(id))
            .set(&row)
            .returning(DelegationRow::as_returning())
            .get_result(tx.conn)
            .await?;
        tx.updated(&before, &after);
        Ok(after)
    })
    .await
}

/// Deletes a delegation (its members and session links go with it) if `if_match` holds.
/// Errors: 404, 412.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    write::delete(
        conn,
        Scope::conference(caller, conference_id, Need::Write, if_match),
        async |conn| lock(conn, conference_id, id).await,
        async |conn, _| {
            diesel::delete(delegations::table.find(id))
                .execute(conn)
                .await?;
            Ok(())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::query_builder::QueryFragment;

    use super::*;

    /// A one-row INSERT of a delegation, the statement of every `POST .../delegations`, is SQL
    /// that diesel keeps prepared per connection. With `None` inserted as `DEFAULT` (diesel's
    /// default) the SQL depended on which fields were set and diesel prepared and planned it
    /// again for every write (benches/RESULTS-writes.md).
    #[test]
    fn a_one_row_insert_is_kept_prepared() {
        let row = DelegationRow::new(Uuid::nil(), DelegationChanges::default());
        let insert = diesel::insert_into(delegations::table)
            .values(&row)
            .returning(DelegationRow::as_returning());
        assert_eq!(insert.is_safe_to_cache_prepared(&Pg).ok(), Some(true));
        // A list of rows is new SQL for each length: never kept, and not assumed to be.
        let rows = vec![row.clone(), row];
        let batch = diesel::insert_into(delegations::table).values(&rows);
        assert_eq!(batch.is_safe_to_cache_prepared(&Pg).ok(), Some(false));
    }
}
