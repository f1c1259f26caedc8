//! Members of a delegation (visible to the conference's organisers only).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::write::{self, Audited, Scope, UNCONDITIONAL};
use super::{new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::delegation_members;
use crate::domain::delegation::{Member, MemberChanges};
use crate::domain::precondition::IfMatch;

/// A member row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = delegation_members, treat_none_as_null = true)]
pub struct MemberRow {
    /// UUID v7.
    pub id: Uuid,
    /// Delegation.
    pub delegation_id: Uuid,
    /// Full name.
    pub full_name: String,
    /// Title.
    pub title: Option<String>,
    /// Position.
    pub position: Option<String>,
    /// Head of delegation.
    pub is_head: bool,
    /// Email.
    pub email: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Member {
            id: r.id,
            full_name: r.full_name,
            title: r.title,
            position: r.position,
            is_head: r.is_head,
            email: r.email,
        }
    }
}

impl MemberRow {
    /// Applies validated changes.
    pub fn apply(&mut self, c: MemberChanges) {
        if let Some(v) = c.full_name {
            self.full_name = v;
        }
        if let Some(v) = c.title {
            self.title = v;
        }
        if let Some(v) = c.position {
            self.position = v;
        }
        if let Some(v) = c.is_head {
            self.is_head = v;
        }
        if let Some(v) = c.email {
            self.email = v;
        }
        self.updated_at = Utc::now();
    }
}

/// The keyset of the member list: the head first, then creation order.
pub type MemberKey = (bool, Uuid);

/// Members of a delegation, head first, then in the order they were added.
pub async fn list(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
    page: &PageRequest<MemberKey>,
) -> QueryResult<Page<Member>> {
    let mut query = delegation_members::table
        .filter(delegation_members::delegation_id.eq(delegation_id))
        .select(MemberRow::as_select())
        .order((
            delegation_members::is_head.desc(),
            delegation_members::id.asc(),
        ))
        .limit(page.limit + 1)
        .into_boxed();
    if let Some((is_head, id)) = page.after {
        // Rows after (is_head, id) in the order (is_head DESC, id ASC).
        query = if is_head {
            query.filter(
                delegation_members::is_head
                    .eq(false)
                    .or(delegation_members::id.gt(id)),
            )
        } else {
            query.filter(
                delegation_members::is_head
                    .eq(false)
                    .and(delegation_members::id.gt(id)),
            )
        };
    }
    let rows = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| (r.is_head, r.id),
        Member::from,
    ))
}

impl Audited for MemberRow {
    const KIND: ResourceKind = ResourceKind::Member;
    type Repr = Member;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Member {
        Member::from(self.clone())
    }
}

/// Adds a member (audited when `caller` is set). Errors: 409 when `is_head` and the delegation
/// already has a head.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
    c: MemberChanges,
) -> Result<MemberRow, StoreError> {
    let now = Utc::now();
    let mut row = MemberRow {
        id: new_id(),
        delegation_id,
        full_name: String::new(),
        title: None,
        position: None,
        is_head: false,
        email: None,
        created_at: now,
        updated_at: now,
    };
    row.apply(c);
    write::create(
        conn,
        scope(caller, conference_id, delegation_id, UNCONDITIONAL),
        async |conn| {
            Ok(diesel::insert_into(delegation_members::table)
                .values(&row)
                .returning(MemberRow::as_returning())
                .get_result(conn)
                .await?)
        },
    )
    .await
}

/// The scope of a write to the members of `delegation_id`: organisers and the delegation's
/// focal points ([`Need::Nominate`]).
fn scope(
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
    if_match: &IfMatch,
) -> Scope<'_> {
    Scope {
        actor: caller,
        conference: caller.map(|_| (conference_id, Need::Nominate(delegation_id))),
        if_match,
    }
}

const NO_SUCH_MEMBER: &str = "no such member in this delegation";

async fn lock(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
    id: Uuid,
) -> Result<MemberRow, StoreError> {
    delegation_members::table
        .filter(delegation_members::delegation_id.eq(delegation_id))
        .filter(delegation_members::id.eq(id))
        .for_update()
        .select(MemberRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found(NO_SUCH_MEMBER))
}

/// Errors with 404 unless the member belongs to the delegation.
pub async fn exists(
    conn: &mut AsyncPgConnection,
    delegation_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let found: bool = diesel::select(diesel::dsl::exists(
        delegation_members::table
            .filter(delegation_members::delegation_id.eq(delegation_id))
            .filter(delegation_members::id.eq(id)),
    ))
    .get_result(conn)
    .await?;
    if found {
        Ok(())
    } else {
        Err(StoreError::not_found(NO_SUCH_MEMBER))
    }
}

/// Changes a member if `if_match` holds (audited). Errors: 404, 412, 409 (second head).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
    c: MemberChanges,
) -> Result<MemberRow, StoreError> {
    write::update(
        conn,
        scope(Some(caller), conference_id, delegation_id, if_match),
        async |conn| lock(conn, delegation_id, id).await,
        async |conn, before| {
            let mut row = before.clone();
            row.apply(c.clone());
            Ok(diesel::update(delegation_members::table.find(id))
                .set(&row)
                .returning(MemberRow::as_returning())
                .get_result(conn)
                .await?)
        },
    )
    .await
}

/// Removes a member if `if_match` holds (audited). Errors: 404, 412.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    write::delete(
        conn,
        scope(Some(caller), conference_id, delegation_id, if_match),
        async |conn| lock(conn, delegation_id, id).await,
        async |conn, _| {
            diesel::delete(delegation_members::table.find(id))
                .execute(conn)
                .await?;
            Ok(())
        },
    )
    .await
}
