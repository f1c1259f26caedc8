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
/// access check ([`crate::store::standing::conference`]).
pub async fn with_role(
    conn: &mut AsyncPgConnection,
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
        .first(conn)
        .await
        .optional()
}
