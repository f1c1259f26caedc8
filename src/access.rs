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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conference::ConferenceChanges;

    fn conference(status: ConferenceStatus, participants_public: bool) -> ConferenceRow {
        let mut row = ConferenceRow::new(ConferenceChanges::default(), None);
        row.status = status;
        row.participants_public = participants_public;
        row
    }

    /// Every need for every kind of caller on every kind of conference: the whole rule as a
    /// table, so a change to one cell shows.
    #[test]
    fn the_rule_as_a_matrix() {
        let someone = Caller {
            id: Uuid::now_v7(),
            is_admin: false,
        };
        let admin = Caller {
            id: Uuid::now_v7(),
            is_admin: true,
        };
        // (caller, role): anonymous, a stranger, an editor, an owner, an admin.
        let callers: [(Option<Caller>, Option<OrganiserRole>); 5] = [
            (None, None),
            (Some(someone), None),
            (Some(someone), Some(OrganiserRole::Editor)),
            (Some(someone), Some(OrganiserRole::Owner)),
            (Some(admin), None),
        ];
        use Refusal::*;
        let ok = Ok(());
        // Rows: need; columns: the callers above. Published conference, private list.
        let published: [(Need, [Result<(), Refusal>; 5]); 5] = [
            (Need::Read, [ok, ok, ok, ok, ok]),
            (
                Need::Write,
                [Err(TokenRequired), Err(NotAnEditor), ok, ok, ok],
            ),
            (
                Need::Own,
                [Err(TokenRequired), Err(NotAnOwner), Err(NotAnOwner), ok, ok],
            ),
            (
                Need::ReadMembers,
                [Err(MembersPrivate), Err(MembersPrivate), ok, ok, ok],
            ),
            (
                Need::ReadParticipants,
                [
                    Err(ParticipantsPrivate),
                    Err(ParticipantsPrivate),
                    ok,
                    ok,
                    ok,
                ],
            ),
        ];
        for status in [ConferenceStatus::Published, ConferenceStatus::Cancelled] {
            let row = conference(status, false);
            for (need, expected) in published {
                for ((caller, role), want) in callers.iter().zip(expected) {
                    assert_eq!(
                        decide(&row, *role, *caller, need),
                        want,
                        "{status} {need:?}"
                    );
                }
            }
        }
        // A draft does not exist for anyone who does not organise it, whatever the need.
        let draft = conference(ConferenceStatus::Draft, true);
        for (need, _) in published {
            for (i, (caller, role)) in callers.iter().enumerate() {
                let got = decide(&draft, *role, *caller, need);
                if i < 2 {
                    assert_eq!(got, Err(NoSuchConference), "draft {need:?}");
                } else {
                    assert_eq!(got.is_ok(), need != Need::Own || i != 2, "draft {need:?}");
                }
            }
        }
        // A public list of participants is everyone's.
        let public = conference(ConferenceStatus::Published, true);
        assert_eq!(decide(&public, None, None, Need::ReadParticipants), Ok(()));
    }

    #[test]
    fn every_refusal_has_its_status_and_one_message() {
        let all = [
            Refusal::TokenRequired,
            Refusal::NoSuchConference,
            Refusal::NotAnEditor,
            Refusal::NotAnOwner,
            Refusal::MembersPrivate,
            Refusal::ParticipantsPrivate,
        ];
        let messages: std::collections::HashSet<_> = all.iter().map(|r| r.message()).collect();
        assert_eq!(messages.len(), all.len());
        assert_eq!(Refusal::TokenRequired.kind(), RefusalKind::Unauthenticated);
        assert_eq!(Refusal::NotAnOwner.kind(), RefusalKind::Forbidden);
        assert_eq!(Refusal::MembersPrivate.kind(), RefusalKind::Hidden);
    }
}
