//! Who may: every access rule of Plenary in one place, each refusal worded once.
//!
//! - **Admins** see and change everything.
//! - **Conferences**: published and cancelled ones are public; a draft exists only for its
//!   organisers (anyone else gets 404, so drafts do not leak their existence). Owners and
//!   editors change a conference and everything under it; owners also manage its organisers.
//! - **Members** of delegations are visible to the conference's organisers only (404 for
//!   everyone else).
//! - **The list of participants** is the organisers' (with emails); everyone else sees it
//!   only when the conference sets `participants_public` (never with emails).
//!
//! Handlers make one call ([`conference`]) before they parse a body that depends on the
//! conference; writes re-check the same rule inside their transaction
//! ([`crate::store::write`]). The rules for lists (which conferences a caller sees) are the
//! SQL condition [`crate::store::conferences::visible_to`], the same rule as [`decide`].

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::vocab::{ConferenceStatus, OrganiserRole};
use crate::store::conferences::{self as conference_store, ConferenceRow};
use crate::store::participants::Audience;
use crate::store::{Caller, StoreError};

/// What a caller needs to do with a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read it and what is public under it.
    Read,
    /// Change it or what hangs under it (owners, editors, admins).
    Write,
    /// Manage its organisers (owners, admins).
    Own,
    /// Read the members of its delegations (organisers, admins).
    ReadMembers,
    /// Read its list of participants (organisers; everyone when it is public).
    ReadParticipants,
}

/// Why a caller was refused; each maps to one status and one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: a write without a bearer token.
    TokenRequired,
    /// 404: the conference does not exist, or is a draft the caller does not organise.
    NoSuchConference,
    /// 403: the caller may read the conference but not change it.
    NotAnEditor,
    /// 403: only owners (and admins) manage a conference's organisers.
    NotAnOwner,
    /// 404: members are the organisers' to see.
    MembersPrivate,
    /// 404: the list of participants is not public.
    ParticipantsPrivate,
}

/// The HTTP meaning of a [`Refusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// 401 with `WWW-Authenticate: Bearer`.
    Unauthenticated,
    /// 403.
    Forbidden,
    /// 404: the caller is not told the resource exists.
    Hidden,
}

impl Refusal {
    /// 401, 403 or 404.
    pub fn kind(self) -> RefusalKind {
        match self {
            Refusal::TokenRequired => RefusalKind::Unauthenticated,
            Refusal::NotAnEditor | Refusal::NotAnOwner => RefusalKind::Forbidden,
            Refusal::NoSuchConference | Refusal::MembersPrivate | Refusal::ParticipantsPrivate => {
                RefusalKind::Hidden
            }
        }
    }

    /// The problem's `detail`.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::TokenRequired => "a bearer token is required",
            Refusal::NoSuchConference => "no such conference",
            Refusal::NotAnEditor => "only the conference's owners and editors may change it",
            Refusal::NotAnOwner => "only the conference's owners may add organisers",
            Refusal::MembersPrivate => "members are visible to the conference's organisers only",
            Refusal::ParticipantsPrivate => {
                "the list of participants of this conference is not public"
            }
        }
    }
}

/// A conference the caller may access, with the caller's standing on it.
#[derive(Debug, Clone)]
pub struct Access {
    /// The conference.
    pub conference: ConferenceRow,
    /// `owner`/`editor` if the caller organises it.
    pub role: Option<OrganiserRole>,
    /// Whether the caller may change it (owner, editor or admin).
    pub can_write: bool,
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
}

/// The rule: may `caller`, whose role on `conference` is `role`, do `need` with it?
pub fn decide(
    conference: &ConferenceRow,
    role: Option<OrganiserRole>,
    caller: Option<Caller>,
    need: Need,
) -> Result<(), Refusal> {
    let is_admin = caller.is_some_and(|c| c.is_admin);
    let organises = is_admin || role.is_some();
    if conference.status == ConferenceStatus::Draft && !organises {
        return Err(Refusal::NoSuchConference);
    }
    match need {
        Need::Read => Ok(()),
        Need::Write | Need::Own if caller.is_none() => Err(Refusal::TokenRequired),
        Need::Write if !organises => Err(Refusal::NotAnEditor),
        Need::Own if !(is_admin || role == Some(OrganiserRole::Owner)) => Err(Refusal::NotAnOwner),
        Need::Write | Need::Own => Ok(()),
        Need::ReadMembers if !organises => Err(Refusal::MembersPrivate),
        Need::ReadMembers => Ok(()),
        Need::ReadParticipants if !organises && !conference.participants_public => {
            Err(Refusal::ParticipantsPrivate)
        }
        Need::ReadParticipants => Ok(()),
    }
}

/// Loads conference `id` with the caller's role on it (one round trip) and applies
/// [`decide`]. Errors: [`StoreError::Refused`] (401, 403, 404 as [`Refusal`] says), database
/// errors.
pub async fn conference(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    id: Uuid,
    need: Need,
) -> Result<Access, StoreError> {
    let (conference, role) = conference_store::with_role(conn, id, caller)
        .await?
        .ok_or(Refusal::NoSuchConference)?;
    decide(&conference, role, caller, need)?;
    let can_write = caller.is_some_and(|c| c.is_admin) || role.is_some();
    Ok(Access {
        conference,
        role,
        can_write,
    })
}
