//! Grants: who organises which conference, as owner or editor (`conference_organisers`).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::access::Need;
use crate::db::schema::{conference_organisers, organisers};
use crate::domain::vocab::OrganiserRole;
use crate::store::audit::ResourceKind;
use crate::store::write::{self, Audited, Input, Scope, UNCONDITIONAL};
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

/// The answer to `POST .../organisers`, the same whether an account has the email or not:
/// the email as given and the role asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GrantRequest {
    /// The email as given.
    pub email: String,
    /// `owner` or `editor`.
    pub role: OrganiserRole,
}

/// Gives the account with `email` (any letter case) `role` on a conference (audited; the
/// caller must own it). An email without an account changes nothing, and neither does one
/// whose account has not proven its address (`email_verified` false: made from an
/// invitation code handed out in an API response, until a password reset by e-mail; whoever
/// made it may not own the address). The answer is the same [`GrantRequest`] in every case,
/// so that it does not reveal whether an account exists.
///
/// Errors: 404/403 from the access rule; 409 when the account already organises the
/// conference (which its owners see in the list of organisers anyway).
pub async fn add_organiser(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    input: Input<(String, OrganiserRole)>,
) -> Result<GrantRequest, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Own, UNCONDITIONAL);
    // One transaction either way: the caller's right is checked, and the answer committed
    // with it, whether or not an account has this email.
    write::run(conn, scope, async |tx| {
        let (email, role) = input.value()?;
        let answer = GrantRequest {
            email: email.clone(),
            role,
        };
        let organiser = super::organisers::find_by_email(tx.conn, &email)
            .await?
            .filter(|o| o.email_verified);
        if let Some(organiser) = &organiser {
            let added = ConferenceOrganiser {
                organiser_id: organiser.id,
                email: organiser.email.clone(),
                name: organiser.name.clone(),
                role,
            };
            diesel::insert_into(conference_organisers::table)
                .values((
                    conference_organisers::conference_id.eq(conference_id),
                    conference_organisers::organiser_id.eq(added.organiser_id),
                    conference_organisers::role.eq(added.role),
                ))
                .execute(tx.conn)
                .await?;
            tx.created(&added);
        }
        Ok(answer)
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
