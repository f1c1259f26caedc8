//! A caller's standing on a conference, loaded and judged: the conference row, the caller's
//! organiser role and focal-point grants, read from the database on every request, then held
//! against the pure rule [`crate::access::decide`].

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::conferences::{self, ConferenceRow};
use super::idempotency::ReplayCheck;
use super::{Caller, StoreError};
use crate::access::{decide, Audience, Need, Refusal, Standing, Visibility};
use crate::domain::vocab::OrganiserRole;

/// A conference the caller may access, with the caller's standing on it.
#[derive(Debug, Clone)]
pub struct Access {
    /// The conference.
    pub conference: ConferenceRow,
    /// `owner`/`editor` if the caller organises it.
    pub role: Option<OrganiserRole>,
    /// Whether the caller may change it (owner, editor or admin).
    pub can_write: bool,
    /// The delegations the caller is an active focal point of (empty for organisers).
    pub focal_point_of: Vec<Uuid>,
}

impl Access {
    /// Who reads the list of participants: organisers (with emails) or the public.
    pub fn audience(&self) -> Audience {
        if self.can_write {
            Audience::Organisers
        } else {
            Audience::Public
        }
    }

    /// Whether the caller acts on `delegation` as its focal point (not as an organiser):
    /// then the focal point's rules apply (nominations start `nominated`, the deadline binds,
    /// [`crate::access::delegation_fields`] and [`crate::access::member_fields`]).
    pub fn is_focal_point(&self, delegation: Uuid) -> bool {
        !self.can_write && self.focal_point_of.contains(&delegation)
    }
}

/// Loads conference `id` with the caller's grants on it, in one statement (its organiser role
/// and, for an authenticated caller, its focal-point grants) and applies [`decide`]. Errors:
/// [`StoreError::Refused`] (401, 403, 404 as [`Refusal`] says), database errors.
///
/// The connection is shared (`&`): the write driver sends this statement together with its
/// BEGIN ([`crate::store::write`]); a `&mut` connection coerces.
pub async fn conference(
    conn: &AsyncPgConnection,
    caller: Option<Caller>,
    id: Uuid,
    need: Need,
) -> Result<Access, StoreError> {
    let (conference, role, focal_point_of) = match caller {
        Some(c) => conferences::with_standing(conn, id, c).await?,
        None => conferences::with_role(conn, id, None)
            .await?
            .map(|(conference, role)| (conference, role, Vec::new())),
    }
    .ok_or(Refusal::NoSuchConference)?;
    let can_write = caller.is_some_and(|c| c.is_admin) || role.is_some_and(OrganiserRole::writes);
    // An organiser's focal-point grants do not count ([`Access::focal_point_of`]).
    let focal_point_of = if can_write {
        Vec::new()
    } else {
        focal_point_of
    };
    let standing = Standing {
        role,
        focal_point_of,
    };
    let visibility = Visibility {
        status: conference.status,
        participants_public: conference.participants_public,
    };
    decide(visibility, &standing, caller, need)?;
    super::idempotency::passed(ReplayCheck::Conference {
        conference: id,
        need,
    });
    Ok(Access {
        conference,
        role,
        can_write,
        focal_point_of: standing.focal_point_of,
    })
}

/// The organiser grant ([`crate::access::organiser`]), recorded for the request's
/// `Idempotency-Key` so that a replay checks it again. Errors: [`Refusal::NotAnOrganiser`].
pub fn organiser(caller: Caller) -> Result<(), Refusal> {
    crate::access::organiser(caller)?;
    super::idempotency::passed(ReplayCheck::Organiser);
    Ok(())
}
