//! Grants: who organises which conference, as owner or editor (`conference_organisers`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::access::Need;
use crate::db::schema::{conference_organisers, organisers};
use crate::domain::vocab::OrganiserRole;
use crate::store::audit::ResourceKind;
use crate::store::write::{self, Audited, Scope, UNCONDITIONAL};
use crate::store::{Caller, StoreError};

/// An organiser of a conference as returned by `POST .../organisers`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConferenceOrganiser {
    /// The organiser.
    pub organiser_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// `owner` or `editor`.
    pub role: OrganiserRole,
}

impl Audited for ConferenceOrganiser {
    const KIND: ResourceKind = ResourceKind::ConferenceOrganiser;
    type Repr = ConferenceOrganiser;
    fn id(&self) -> Uuid {
        self.organiser_id
    }
    fn repr(&self) -> ConferenceOrganiser {
        self.clone()
    }
}

/// Adds the organiser with `email` to a conference (audited; the caller must own it).
/// Errors: 422 when no organiser has that email, 409 when they already organise it.
pub async fn add_organiser(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    email: &str,
    role: OrganiserRole,
) -> Result<ConferenceOrganiser, StoreError> {
    let organiser = super::organisers::find_by_email(conn, email)
        .await?
        .ok_or_else(|| StoreError::field("email", "no organiser has this email"))?;
    let added = ConferenceOrganiser {
        organiser_id: organiser.id,
        email: organiser.email,
        name: organiser.name,
        role,
    };
    let scope = Scope::conference(caller, conference_id, Need::Own, UNCONDITIONAL);
    write::create(conn, scope, async |conn| {
        diesel::insert_into(conference_organisers::table)
            .values((
                conference_organisers::conference_id.eq(conference_id),
                conference_organisers::organiser_id.eq(added.organiser_id),
                conference_organisers::role.eq(added.role),
            ))
            .execute(conn)
            .await?;
        Ok(added.clone())
    })
    .await
}

/// The organisers of a conference, owners first.
pub async fn organisers_of(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<Vec<ConferenceOrganiser>> {
    let rows: Vec<(Uuid, String, String, OrganiserRole)> = conference_organisers::table
        .inner_join(organisers::table)
        .filter(conference_organisers::conference_id.eq(conference_id))
        .order((conference_organisers::role.desc(), organisers::email.asc()))
        .select((
            organisers::id,
            organisers::email,
            organisers::name,
            conference_organisers::role,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(organiser_id, email, name, role)| ConferenceOrganiser {
            organiser_id,
            email,
            name,
            role,
        })
        .collect())
}
