//! Conferences: the row and its representation ([`row`]), the list and who sees what in it
//! ([`list`]), and the audited writes ([`changes`]). Who may read or change one conference is
//! [`crate::access`]; who organises it is [`crate::store::grants`].

mod changes;
mod list;
mod row;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

pub use changes::{create, delete, update};
pub(crate) use list::{filtered, visible_to};
pub use list::{list, ConferenceFilter, ConferenceKey};
pub use row::ConferenceRow;

use crate::db::schema::{conference_organisers, conferences};
use crate::domain::vocab::OrganiserRole;
use crate::store::Caller;

/// Conference `id` and the caller's role on it, in one round trip (a nil id for anonymous
/// callers matches no organiser); `None` when it does not exist. The query behind every
/// access check ([`crate::store::standing::conference`]). It takes the connection shared, so
/// that the write driver can send it in one round trip with BEGIN (pipelined,
/// [`crate::store::write`]).
pub async fn with_role(
    mut conn: &AsyncPgConnection,
    id: Uuid,
    caller: Option<Caller>,
) -> QueryResult<Option<(ConferenceRow, Option<OrganiserRole>)>> {
    let caller_id = caller.map_or(Uuid::nil(), |c| c.id);
    conferences::table
        .left_join(
            conference_organisers::table.on(conference_organisers::conference_id
                .eq(conferences::id)
                .and(conference_organisers::organiser_id.eq(caller_id))),
        )
        .filter(conferences::id.eq(id))
        .select((
            ConferenceRow::as_select(),
            conference_organisers::role.nullable(),
        ))
        .first(&mut conn)
        .await
        .optional()
}

/// A caller's standing on a conference as [`with_standing`] reads it: the conference, the
/// caller's organiser role on it, and the delegations of it the caller is an active focal
/// point of.
pub type Standing = (ConferenceRow, Option<OrganiserRole>, Vec<Uuid>);

/// Conference `id` with an authenticated caller's standing on it ([`Standing`]), in one
/// statement; `None` when it does not exist. The query behind the access check of an
/// authenticated caller ([`crate::store::standing::conference`]; anonymous callers need only
/// [`with_role`]).
pub async fn with_standing(
    mut conn: &AsyncPgConnection,
    id: Uuid,
    caller: Caller,
) -> QueryResult<Option<Standing>> {
    conferences::table
        .left_join(
            conference_organisers::table.on(conference_organisers::conference_id
                .eq(conferences::id)
                .and(conference_organisers::organiser_id.eq(caller.id))),
        )
        .filter(conferences::id.eq(id))
        .select((
            ConferenceRow::as_select(),
            conference_organisers::role.nullable(),
            FocalPointOf(caller.id),
        ))
        .first(&mut conn)
        .await
        .optional()
}

/// `ARRAY(...)` of the delegations of the selected conference whose active focal point is
/// account `.0` (served by the index `focal_points_account_idx`).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct FocalPointOf(Uuid);

impl diesel::expression::Expression for FocalPointOf {
    type SqlType = diesel::sql_types::Array<diesel::sql_types::Uuid>;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for FocalPointOf where
    conferences::id: diesel::expression::AppearsOnTable<QS>
{
}

impl<QS> diesel::expression::SelectableExpression<QS> for FocalPointOf where
    conferences::id: diesel::expression::SelectableExpression<QS>
{
}

impl<GB> diesel::expression::ValidGrouping<GB> for FocalPointOf {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for FocalPointOf {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql(
            "ARRAY(SELECT \"focal_points\".\"delegation_id\" FROM \"focal_points\" \
             WHERE \"focal_points\".\"organiser_id\" = ",
        );
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.0)?;
        out.push_sql(
            " AND \"focal_points\".\"conference_id\" = \"conferences\".\"id\" \
             AND \"focal_points\".\"revoked_at\" IS NULL)",
        );
        Ok(())
    }
}
