//! Members of a delegation (visible to the conference's organisers and the delegation's
//! focal points), and the nomination rules their writes obey (API.md "Accreditation"):
//!
//! - a member created by a focal point starts `nominated`, one created by an organiser
//!   `accepted` unless the body says otherwise; a focal point's change to an accepted or
//!   rejected member puts it back to `nominated` ([`Actor`]);
//! - after the conference's `nominations_close_at` (by the database clock) a focal point's
//!   create, change and delete are refused ([`StoreError::NominationsClosed`]);
//! - a write that would take the delegation past a quota is refused
//!   ([`StoreError::QuotaExceeded`]): nominated and accepted members count, and the
//!   delegation's row is locked before they are counted, so simultaneous writes apply one
//!   after the other. Lowering a quota keeps the members already there.
//!
//! Each rule is checked inside the write's transaction ([`crate::store::write`]).

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Jsonb, Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::outbox;
use super::standing::Access;
use super::write::{self, Audited, Input, Scope, UNCONDITIONAL};
use super::{new_id, paginate, Caller, Page, PageRequest, StoreError};
use crate::access::{self, Need};
use crate::db::schema::delegation_members;
use crate::domain::conference::Quotas;
use crate::domain::delegation::{Member, MemberChanges};
use crate::domain::mail::MailKind;
use crate::domain::precondition::IfMatch;
use crate::domain::vocab::{Gender, MemberCategory, NominationStatus};

/// How the nomination rules see a write to a delegation's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An organiser of the conference, an admin, the importer: new members start `accepted`
    /// (unless the body says otherwise), and the deadline does not apply.
    Organiser,
    /// One of the delegation's focal points: new and changed members are `nominated`, and
    /// the deadline applies.
    FocalPoint,
}

impl Actor {
    /// The status of a member this actor creates without giving one.
    fn starts(self) -> NominationStatus {
        match self {
            Actor::Organiser => NominationStatus::Accepted,
            Actor::FocalPoint => NominationStatus::Nominated,
        }
    }
}

impl Actor {
    /// How the rules see the caller of a write whose access check found `access` (`None`:
    /// the importer, an organiser): its focal point when [`Access::is_focal_point`] says so.
    fn of(access: Option<&Access>, delegation_id: Uuid) -> Self {
        if access.is_some_and(|a| a.is_focal_point(delegation_id)) {
            Actor::FocalPoint
        } else {
            Actor::Organiser
        }
    }
}

/// A member row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = delegation_members, treat_none_as_null = true, treat_none_as_default_value = false)]
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
    /// Family name.
    pub family_name: Option<String>,
    /// Name in the person's own script.
    pub native_name: Option<String>,
    /// Form of address.
    pub honorific: Option<String>,
    /// Category.
    pub category: MemberCategory,
    /// Gender.
    pub gender: Option<Gender>,
    /// Nomination status.
    pub nomination_status: NominationStatus,
    /// The organisers' note on the nomination.
    pub nomination_note: Option<String>,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Self {
        Member {
            id: r.id,
            full_name: r.full_name,
            family_name: r.family_name,
            native_name: r.native_name,
            honorific: r.honorific,
            title: r.title,
            position: r.position,
            category: r.category,
            is_head: r.is_head,
            email: r.email,
            gender: r.gender,
            nomination_status: r.nomination_status,
            nomination_note: r.nomination_note,
        }
    }
}

impl MemberRow {
    /// Applies validated changes.
    pub fn apply(&mut self, c: MemberChanges) {
        if let Some(v) = c.full_name {
            self.full_name = v;
        }
        if let Some(v) = c.family_name {
            self.family_name = v;
        }
        if let Some(v) = c.native_name {
            self.native_name = v;
        }
        if let Some(v) = c.honorific {
            self.honorific = v;
        }
        if let Some(v) = c.title {
            self.title = v;
        }
        if let Some(v) = c.position {
            self.position = v;
        }
        if let Some(v) = c.category {
            self.category = v;
        }
        if let Some(v) = c.is_head {
            self.is_head = v;
        }
        if let Some(v) = c.email {
            self.email = v;
        }
        if let Some(v) = c.gender {
            self.gender = v;
        }
        if let Some(v) = c.nomination_status {
            self.nomination_status = v;
        }
        if let Some(v) = c.nomination_note {
            self.nomination_note = v;
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

/// One member of the secretariat's queue (`GET /conferences/{id}/members`): the member and the
/// delegation it belongs to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueuedMember {
    /// The member's delegation.
    pub delegation_id: Uuid,
    /// The member, as the delegation's member list shows it.
    pub member: Member,
}

/// The secretariat's queue: the members of every delegation of conference `conference_id`
/// (only those whose `nomination_status` is `status`, when given), in the order they were
/// added (UUID v7), keyset-paginated on the member id. Organisers only ([`Need::Write`]).
/// Errors: the access refusal.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    status: Option<NominationStatus>,
    page: &PageRequest<Uuid>,
) -> Result<Page<QueuedMember>, StoreError> {
    use crate::db::schema::delegations;
    super::standing::conference(conn, Some(caller), conference_id, Need::Write).await?;
    let mut query = delegation_members::table
        .inner_join(delegations::table.on(delegations::id.eq(delegation_members::delegation_id)))
        .filter(delegations::conference_id.eq(conference_id))
        .select(MemberRow::as_select())
        .order(delegation_members::id.asc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(delegation_members::nomination_status.eq(status));
    }
    if let Some(after) = page.after {
        query = query.filter(delegation_members::id.gt(after));
    }
    let rows: Vec<MemberRow> = query.load(conn).await?;
    Ok(paginate(
        rows,
        page.limit,
        |r| r.id,
        |r| QueuedMember {
            delegation_id: r.delegation_id,
            member: Member::from(r),
        },
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
    fn delegation_id(&self) -> Option<Uuid> {
        Some(self.delegation_id)
    }
}

/// Adds a member under the nomination rules of its caller (`None`: the importer, unaudited,
/// as an organiser): it starts `nominated` for a focal point and `accepted` for an organiser
/// unless the input says otherwise. In this order: the access check ([`Need::Nominate`]), 404
/// for a delegation of another conference, 403 for a focal point sending review fields
/// ([`access::member_fields`]), 422 for invalid input, 409 [`StoreError::NominationsClosed`],
/// 409 [`StoreError::QuotaExceeded`], 409 when `is_head` and the delegation already has a
/// head.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
    input: Input<MemberChanges>,
) -> Result<MemberRow, StoreError> {
    let input = input.map(|one| vec![(String::new(), one)]);
    let mut saved = create_all(conn, caller, conference_id, delegation_id, input).await?;
    saved
        .pop()
        .ok_or(StoreError::Database(diesel::result::Error::NotFound))
}

/// Adds members all or nothing, in one transaction, under the rules of [`create`], checked for
/// the whole batch under the one lock of the delegation ([`guard`]): each member is checked
/// against the quotas with the members before it counted, so a batch that would take the
/// delegation past a quota is refused as a whole, and simultaneous batches apply one after
/// the other. Each item comes with its name (`items[3]`, `row 17`; empty for a single member),
/// which a quota's refusal names. Every member is audited (a `create` entry each).
pub async fn create_all(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
    input: Input<Vec<(String, MemberChanges)>>,
) -> Result<Vec<MemberRow>, StoreError> {
    let scope = scope(caller, conference_id, delegation_id, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        let actor = Actor::of(tx.access(), delegation_id);
        let guard = guard(tx.conn, conference_id, delegation_id).await?;
        let items = checked(tx.access(), delegation_id, &input)?;
        guard.admits(actor)?;
        let mut saved = Vec::with_capacity(items.len());
        for (name, changes) in items {
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
                family_name: None,
                native_name: None,
                honorific: None,
                category: MemberCategory::Representative,
                gender: None,
                nomination_status: actor.starts(),
                nomination_note: None,
            };
            row.apply(changes);
            check_quotas(tx.conn, guard.quotas, None, &row)
                .await
                .map_err(|e| match e {
                    StoreError::QuotaExceeded(m) if !name.is_empty() => {
                        StoreError::QuotaExceeded(format!("{m} ({name} is one too many)"))
                    }
                    other => other,
                })?;
            let one = diesel::insert_into(delegation_members::table)
                .values(&row)
                .returning(MemberRow::as_returning())
                .get_result(tx.conn)
                .await?;
            tx.created(&one);
            saved.push(one);
        }
        Ok(saved)
    })
    .await
}

/// The input of a member write, once the caller may write and the delegation is locked:
/// 403 for a focal point's review fields ([`access::member_fields`]), then 422.
fn checked<T: Clone>(
    access: Option<&Access>,
    delegation_id: Uuid,
    input: &Input<T>,
) -> Result<T, StoreError> {
    if let Some(access) = access {
        access::member_fields(access.is_focal_point(delegation_id), input.field_names())?;
    }
    input.value()
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

/// What [`guard`] found under the delegation's lock.
struct Guard {
    /// The conference's quotas.
    quotas: Option<Quotas>,
    /// Whether the conference's `nominations_close_at` has passed (by the database clock).
    closed: bool,
}

impl Guard {
    /// Refuses a focal point once nominations are closed. Errors:
    /// [`StoreError::NominationsClosed`].
    fn admits(&self, actor: Actor) -> Result<(), StoreError> {
        if actor == Actor::FocalPoint && self.closed {
            Err(StoreError::NominationsClosed)
        } else {
            Ok(())
        }
    }
}

/// The first step of every member write, inside its transaction, in one statement: locks the
/// delegation's row (`FOR NO KEY UPDATE OF delegations`: member writes to one delegation wait
/// for each other, while rows that only refer to the delegation, such as session links, are
/// not held up; the conference's row is only read) and reads the conference's quotas and
/// whether its `nominations_close_at` has passed by the database clock ([`Guard::admits`]).
/// Errors: 404 when the delegation is not the conference's.
async fn guard(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
) -> Result<Guard, StoreError> {
    let (quotas, closed): (Option<Quotas>, Option<bool>) = Lock {
        conference_id,
        delegation_id,
    }
    .get_result(conn)
    .await
    .optional()?
    .ok_or_else(|| StoreError::not_found("no such delegation in this conference"))?;
    Ok(Guard {
        quotas,
        closed: closed == Some(true),
    })
}

/// The statement of [`guard`] (fixed SQL, kept prepared): diesel's `FOR NO KEY UPDATE` on a
/// join would lock the conference's row too, and `OF` is not in its DSL.
#[derive(Debug, Clone, Copy)]
struct Lock {
    conference_id: Uuid,
    delegation_id: Uuid,
}

impl QueryFragment<Pg> for Lock {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT c.quotas, c.nominations_close_at < now() \
             FROM delegations AS d JOIN conferences AS c ON c.id = d.conference_id \
             WHERE d.id = ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.delegation_id)?;
        out.push_sql(" AND d.conference_id = ");
        out.push_bind_param::<SqlUuid, _>(&self.conference_id)?;
        out.push_sql(" FOR NO KEY UPDATE OF d");
        Ok(())
    }
}

impl QueryId for Lock {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Lock {
    type SqlType = (Nullable<Jsonb>, Nullable<Bool>);
}

/// Refuses `after` when it would take its delegation past `quotas`. Only a member that newly
/// counts (created, or back from `rejected`) is checked against `per_delegation`, and only one
/// that newly counts or changes category against its category's quota, so lowering a quota
/// keeps the members already there. `before` is the member before an update (`None` for a
/// creation); the counts leave the member itself out. The caller holds the delegation's lock
/// ([`guard`]). Errors: [`StoreError::QuotaExceeded`] naming the quota.
async fn check_quotas(
    conn: &mut AsyncPgConnection,
    quotas: Option<Quotas>,
    before: Option<&MemberRow>,
    after: &MemberRow,
) -> Result<(), StoreError> {
    let Some(quotas) = quotas else {
        return Ok(());
    };
    if !after.nomination_status.counts() {
        return Ok(());
    }
    let counted = before.filter(|b| b.nomination_status.counts());
    let total_limit = quotas.per_delegation.filter(|_| counted.is_none());
    let category_limit = quotas
        .of(after.category)
        .filter(|_| counted.is_none_or(|b| b.category != after.category));
    if total_limit.is_none() && category_limit.is_none() {
        return Ok(());
    }
    let counts: Vec<(MemberCategory, i64)> = delegation_members::table
        .filter(delegation_members::delegation_id.eq(after.delegation_id))
        .filter(delegation_members::id.ne(after.id))
        .filter(delegation_members::nomination_status.ne(NominationStatus::Rejected))
        .group_by(delegation_members::category)
        .select((delegation_members::category, count_star()))
        .load(conn)
        .await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let in_category = counts
        .iter()
        .find(|(c, _)| *c == after.category)
        .map_or(0, |(_, n)| *n);
    // In words for the person who nominates, with the quota's name for clients.
    let reached = |places: String, name: &str, limit: i32| {
        StoreError::QuotaExceeded(format!(
            "no {places} left in this delegation: quota {name} ({limit}) reached"
        ))
    };
    if let Some(limit) = total_limit.filter(|l| total >= i64::from(*l)) {
        return Err(reached("place".into(), Quotas::PER_DELEGATION, limit));
    }
    if let Some(limit) = category_limit.filter(|l| in_category >= i64::from(*l)) {
        let category = after.category.as_str();
        return Err(reached(format!("{category} place"), category, limit));
    }
    Ok(())
}

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

/// Changes a member if `if_match` holds (audited), under the nomination rules of its caller:
/// a focal point's change to an accepted or rejected member that changes its representation
/// puts it back to `nominated`. In this order: the access check ([`Need::Nominate`]), 404 (the
/// delegation, then the member), 403 and 422 as for [`create`], 409
/// [`StoreError::NominationsClosed`], 412, 409 [`StoreError::QuotaExceeded`], 409 (second
/// head).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
    input: Input<MemberChanges>,
) -> Result<MemberRow, StoreError> {
    let scope = scope(Some(caller), conference_id, delegation_id, if_match);
    write::run(conn, scope, async |tx| {
        let actor = Actor::of(tx.access(), delegation_id);
        let guard = guard(tx.conn, conference_id, delegation_id).await?;
        let before = lock(tx.conn, delegation_id, id).await?;
        let changes = checked(tx.access(), delegation_id, &input)?;
        guard.admits(actor)?;
        tx.precondition(&before)?;
        let mut row = before.clone();
        row.apply(changes);
        if actor == Actor::FocalPoint && row.repr() != before.repr() {
            row.nomination_status = NominationStatus::Nominated;
        }
        check_quotas(tx.conn, guard.quotas, Some(&before), &row).await?;
        let after = diesel::update(delegation_members::table.find(id))
            .set(&row)
            .returning(MemberRow::as_returning())
            .get_result(tx.conn)
            .await?;
        tx.updated(&before, &after);
        let decided = actor != Actor::FocalPoint
            && before.nomination_status == NominationStatus::Nominated
            && matches!(
                after.nomination_status,
                NominationStatus::Accepted | NominationStatus::Rejected
            );
        if decided {
            let mut extra = serde_json::Map::new();
            extra.insert("member".into(), after.full_name.clone().into());
            extra.insert(
                "decision".into(),
                serde_json::to_value(after.nomination_status).unwrap_or_default(),
            );
            if let Some(note) = &after.nomination_note {
                extra.insert("note".into(), note.clone().into());
            }
            let kind = MailKind::NominationDecided;
            for email in
                outbox::to_focal_points(tx.conn, conference_id, delegation_id, kind, extra).await?
            {
                tx.notify(email);
            }
        }
        Ok(after)
    })
    .await
}

/// Removes a member if `if_match` holds (audited). In this order: the access check
/// ([`Need::Nominate`]), 404 (the delegation), 409 [`StoreError::NominationsClosed`] (a focal
/// point after the deadline), 404 (the member), 412.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), StoreError> {
    let scope = scope(Some(caller), conference_id, delegation_id, if_match);
    write::run(conn, scope, async |tx| {
        let actor = Actor::of(tx.access(), delegation_id);
        guard(tx.conn, conference_id, delegation_id)
            .await?
            .admits(actor)?;
        let before = lock(tx.conn, delegation_id, id).await?;
        tx.precondition(&before)?;
        diesel::delete(delegation_members::table.find(id))
            .execute(tx.conn)
            .await?;
        tx.deleted(&before);
        Ok(())
    })
    .await
}
