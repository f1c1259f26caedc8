//! Who may: every access rule of Plenary in one place, each refusal worded once.
//!
//! What an account may do comes from its grants (API.md "Organisers and tokens" and
//! "Accreditation"), read from the database on every request, so a revoked grant stops at
//! the next request, tokens already issued included:
//!
//! - **Admins** see and change everything.
//! - **The organiser grant** (`plenary organiser add`) lets an account create conferences
//!   and organisations and change organisations ([`organiser`]). Accounts made by accepting
//!   a focal-point invitation have none.
//! - **Conferences**: published and cancelled ones are public; a draft exists only for its
//!   organisers and its focal points (anyone else gets 404, so drafts do not leak their
//!   existence). Owners and editors change a conference and everything under it; owners also
//!   manage its organisers.
//! - **Check-in staff** (the organiser role `check_in`) read the conference (even a draft),
//!   its badges and their key, and record check-ins ([`Need::ReadBadge`], [`Need::CheckIn`]);
//!   everything else is 403 to them ([`Refusal::CheckInOnly`]).
//! - **Focal points** of a delegation read the conference (even a draft) and that
//!   delegation; change its `authority`, `size` and `head` ([`delegation_fields`]); read,
//!   create, change and delete its members (their nominations, without
//!   `nomination_status` and `nomination_note`: [`member_fields`]); submit and read its
//!   credentials. Other delegations' members and credentials are 404 to them, every other
//!   write under the conference 403.
//! - **Members** of delegations are visible to the conference's organisers and the
//!   delegation's focal points only (404 for everyone else).
//! - **The list of participants** is the organisers' (with emails); everyone else sees it
//!   only when the conference sets `participants_public` (never with emails).
//!
//! This module is the pure rule: it reads no database. The store loads a caller's grants
//! and applies [`decide`] ([`crate::store::standing::conference`]): reads make that one call
//! before they query. Writes check their rule once, inside their transaction
//! ([`crate::store::write`]): the store function names the [`Need`] and hands the body what
//! the check found; write routes name none (the credentials upload and the webhook
//! registration, which must refuse a caller before reading the upload or resolving a host,
//! call the store's own check of the same rule first). The rules for lists (which
//! conferences a caller sees) are the SQL condition [`crate::store::conferences::visible_to`], the same rule as [`decide`] for
//! organisers (a focal point finds its drafts through `GET /me`).

use uuid::Uuid;

use crate::domain::vocab::{ConferenceStatus, OrganiserRole};
use crate::domain::Caller;

/// What a caller needs to do with a conference (or one of its delegations). Serialised (as
/// `{"need": "nominate", "delegation": "<uuid>"}`) with the responses of `Idempotency-Key`
/// requests, whose replays check it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "need", content = "delegation")]
pub enum Need {
    /// Read what is public under it (delegation lists, sessions, attendance, exports): a
    /// draft's only for its organisers.
    Read,
    /// Read the conference resource itself: a draft's also for its focal points.
    ReadConference,
    /// Read this delegation: a draft's also for the delegation's focal points.
    ReadDelegation(Uuid),
    /// Change it or what hangs under it (owners, editors, admins).
    Write,
    /// Manage its organisers (owners, admins).
    Own,
    /// Read the members of this delegation (organisers, the delegation's focal points).
    ReadMembers(Uuid),
    /// Create, change or delete members of this delegation (organisers, its focal points).
    Nominate(Uuid),
    /// `PATCH` this delegation (organisers; its focal points only some fields).
    EditDelegation(Uuid),
    /// Submit this delegation's credentials (organisers, its focal points).
    Credentials(Uuid),
    /// Read this delegation's credentials and their document (organisers, its focal
    /// points; 404 for everyone else).
    ReadCredentials(Uuid),
    /// Read its list of participants (organisers; everyone when it is public).
    ReadParticipants,
    /// Read the badge of a member of this delegation (organisers, its focal points, check-in
    /// staff).
    ReadBadge(Uuid),
    /// Record check-ins and read the list of revoked badges (organisers, check-in staff).
    CheckIn,
}

impl Need {
    /// The delegation a focal point's grant must cover for this need, if any.
    fn delegation(self) -> Option<Uuid> {
        match self {
            Need::ReadDelegation(d)
            | Need::ReadMembers(d)
            | Need::Nominate(d)
            | Need::EditDelegation(d)
            | Need::Credentials(d)
            | Need::ReadCredentials(d)
            | Need::ReadBadge(d) => Some(d),
            _ => None,
        }
    }
}

/// Why a caller was refused; each maps to one status and one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: a write without a bearer token.
    TokenRequired,
    /// 404: the conference does not exist, or is a draft the caller has no grant on.
    NoSuchConference,
    /// 404: a draft's contents are its organisers' (its focal points see only their own).
    DraftPrivate,
    /// 403: the caller may read the conference but not change it.
    NotAnEditor,
    /// 403: only owners (and admins) manage a conference's organisers.
    NotAnOwner,
    /// 403: the account has no organiser grant (a focal point's account).
    NotAnOrganiser,
    /// 404: members are the organisers' to see.
    MembersPrivate,
    /// 404: another delegation's members and credentials, to a focal point.
    DelegationPrivate,
    /// 403: a focal point changing a delegation field other than authority, size, head.
    FocalPointField,
    /// 403: a focal point setting `nomination_status` or `nomination_note`.
    ReviewIsOrganisers,
    /// 404: the list of participants is not public.
    ParticipantsPrivate,
    /// 403: check-in staff read the conference, its badges and key, and record check-ins.
    CheckInOnly,
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
            Refusal::NotAnEditor
            | Refusal::NotAnOwner
            | Refusal::NotAnOrganiser
            | Refusal::FocalPointField
            | Refusal::ReviewIsOrganisers
            | Refusal::CheckInOnly => RefusalKind::Forbidden,
            Refusal::NoSuchConference
            | Refusal::DraftPrivate
            | Refusal::MembersPrivate
            | Refusal::DelegationPrivate
            | Refusal::ParticipantsPrivate => RefusalKind::Hidden,
        }
    }

    /// The problem's `detail`.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::TokenRequired => "a bearer token is required",
            Refusal::NoSuchConference => "no such conference",
            Refusal::DraftPrivate => "the contents of a draft are visible to its organisers only",
            Refusal::NotAnEditor => {
                "only the conference's owners and editors may do this (change it, or read what only its organisers read)"
            }
            Refusal::NotAnOwner => "only the conference's owners may add organisers",
            Refusal::NotAnOrganiser => {
                "only organisers may create conferences and create or change organisations"
            }
            Refusal::MembersPrivate => "members are visible to the conference's organisers only",
            Refusal::DelegationPrivate => {
                "a delegation's members and credentials are visible to its focal points and the conference's organisers only"
            }
            Refusal::FocalPointField => {
                "a focal point may change only the authority, size and head of its delegation"
            }
            Refusal::ReviewIsOrganisers => {
                "only the conference's organisers set nomination_status and nomination_note"
            }
            Refusal::ParticipantsPrivate => {
                "the list of participants of this conference is not public"
            }
            Refusal::CheckInOnly => {
                "check-in staff may only read the conference, its badges and their key, and record check-ins"
            }
        }
    }
}

/// A caller's grants on one conference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// `owner`/`editor`/`check_in` if the caller organises it.
    pub role: Option<OrganiserRole>,
    /// The delegations of the conference the caller is an active focal point of.
    pub focal_point_of: Vec<Uuid>,
}

/// What the rule reads of a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    /// Drafts exist only for their organisers and focal points.
    pub status: ConferenceStatus,
    /// Whether everyone may read its list of participants.
    pub participants_public: bool,
}

/// Who reads the list of participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The conference's organisers (and admins): members' emails included.
    Organisers,
    /// Anyone else (only when the list is public): no emails.
    Public,
}

/// The rule: may `caller`, whose grants on `conference` are `standing`, do `need` with it?
pub fn decide(
    conference: Visibility,
    standing: &Standing,
    caller: Option<Caller>,
    need: Need,
) -> Result<(), Refusal> {
    let is_admin = caller.is_some_and(|c| c.is_admin);
    let organises = is_admin || standing.role.is_some_and(OrganiserRole::writes);
    if !organises && standing.role == Some(OrganiserRole::CheckIn) {
        return match need {
            Need::Read
            | Need::ReadConference
            | Need::ReadDelegation(_)
            | Need::ReadBadge(_)
            | Need::CheckIn => Ok(()),
            // What organisers alone read is hidden as it is from anyone without a grant.
            Need::ReadMembers(_) => Err(Refusal::MembersPrivate),
            Need::ReadCredentials(_) => Err(Refusal::DelegationPrivate),
            Need::ReadParticipants if conference.participants_public => Ok(()),
            Need::ReadParticipants => Err(Refusal::ParticipantsPrivate),
            _ => Err(Refusal::CheckInOnly),
        };
    }
    let focal_point = !organises && !standing.focal_point_of.is_empty();
    let covers = need
        .delegation()
        .is_some_and(|d| !organises && standing.focal_point_of.contains(&d));
    if conference.status == ConferenceStatus::Draft && !organises {
        if !focal_point {
            return Err(Refusal::NoSuchConference);
        }
        // A focal point knows the draft: it reads the conference and its own delegation,
        // and is refused the rest as it would be on a published conference, except that
        // what is public there is the organisers' here.
        match need {
            Need::Read | Need::ReadParticipants => return Err(Refusal::DraftPrivate),
            Need::ReadDelegation(_) if !covers => return Err(Refusal::DraftPrivate),
            _ => {}
        }
    }
    match need {
        Need::Read | Need::ReadConference | Need::ReadDelegation(_) => Ok(()),
        Need::ReadMembers(_) if organises || covers => Ok(()),
        Need::ReadMembers(_) if focal_point => Err(Refusal::DelegationPrivate),
        Need::ReadMembers(_) => Err(Refusal::MembersPrivate),
        Need::ReadCredentials(_) if organises || covers => Ok(()),
        Need::ReadCredentials(_) => Err(Refusal::DelegationPrivate),
        Need::ReadBadge(_) if organises || covers => Ok(()),
        Need::ReadBadge(_) if focal_point => Err(Refusal::DelegationPrivate),
        Need::ReadBadge(_) => Err(Refusal::MembersPrivate),
        Need::ReadParticipants if !organises && !conference.participants_public => {
            Err(Refusal::ParticipantsPrivate)
        }
        Need::ReadParticipants => Ok(()),
        _ if caller.is_none() => Err(Refusal::TokenRequired),
        Need::Nominate(_) | Need::Credentials(_) | Need::EditDelegation(_)
            if organises || covers =>
        {
            Ok(())
        }
        Need::Nominate(_) | Need::Credentials(_) if focal_point => Err(Refusal::DelegationPrivate),
        Need::Own if !(is_admin || standing.role == Some(OrganiserRole::Owner)) => {
            Err(Refusal::NotAnOwner)
        }
        Need::Own => Ok(()),
        Need::Write | Need::CheckIn if organises => Ok(()),
        Need::Write
        | Need::CheckIn
        | Need::Nominate(_)
        | Need::Credentials(_)
        | Need::EditDelegation(_) => Err(Refusal::NotAnEditor),
    }
}

/// The organiser grant: may `caller` create conferences and organisations, and change or
/// delete organisations (shared by every conference)? Errors: [`Refusal::NotAnOrganiser`].
pub fn organiser(caller: Caller) -> Result<(), Refusal> {
    if caller.is_admin || caller.is_organiser {
        Ok(())
    } else {
        Err(Refusal::NotAnOrganiser)
    }
}

/// The delegation fields a focal point may change with `PATCH`.
pub const FOCAL_POINT_DELEGATION_FIELDS: &[&str] = &["authority", "size", "head"];

/// The member fields only organisers set.
pub const REVIEW_FIELDS: &[&str] = &["nomination_status", "nomination_note"];

/// May a caller change these fields of a delegation (the names of a `PATCH` body)?
/// Organisers any; one acting as its focal point (`as_focal_point`)
/// [`FOCAL_POINT_DELEGATION_FIELDS`]. Errors: [`Refusal::FocalPointField`].
pub fn delegation_fields<'a>(
    as_focal_point: bool,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<(), Refusal> {
    if as_focal_point && fields.any(|f| !FOCAL_POINT_DELEGATION_FIELDS.contains(&f)) {
        return Err(Refusal::FocalPointField);
    }
    Ok(())
}

/// May a caller send these member fields for a delegation? Organisers any; one acting as
/// its focal point (`as_focal_point`) all but [`REVIEW_FIELDS`]. Errors:
/// [`Refusal::ReviewIsOrganisers`].
pub fn member_fields<'a>(
    as_focal_point: bool,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<(), Refusal> {
    if as_focal_point && fields.any(|f| REVIEW_FIELDS.contains(&f)) {
        return Err(Refusal::ReviewIsOrganisers);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conference(status: ConferenceStatus, participants_public: bool) -> Visibility {
        Visibility {
            status,
            participants_public,
        }
    }

    /// Every need for every kind of caller on a published and on a draft conference: the
    /// whole rule as two tables, so a change to one cell shows.
    #[test]
    fn the_rule_as_a_matrix() {
        let (d, e) = (Uuid::now_v7(), Uuid::now_v7());
        let someone = Caller {
            id: Uuid::now_v7(),
            is_admin: false,
            is_organiser: true,
        };
        let admin = Caller {
            is_admin: true,
            ..someone
        };
        let focal = Caller {
            is_organiser: false,
            ..someone
        };
        let standing = |role, fp: Vec<Uuid>| Standing {
            role,
            focal_point_of: fp,
        };
        // Columns: anonymous, a stranger, an editor, an owner, an admin, the focal point of
        // delegation d, the focal point of another delegation e of the same conference.
        let callers: [(Option<Caller>, Standing); 7] = [
            (None, standing(None, vec![])),
            (Some(someone), standing(None, vec![])),
            (Some(someone), standing(Some(OrganiserRole::Editor), vec![])),
            (Some(someone), standing(Some(OrganiserRole::Owner), vec![])),
            (Some(admin), standing(None, vec![])),
            (Some(focal), standing(None, vec![d])),
            (Some(focal), standing(None, vec![e])),
        ];
        use Refusal::*;
        let ok = Ok(());
        let (tok, ed, own) = (Err(TokenRequired), Err(NotAnEditor), Err(NotAnOwner));
        let (mem, del, part) = (
            Err(MembersPrivate),
            Err(DelegationPrivate),
            Err(ParticipantsPrivate),
        );
        type Row = (Need, [Result<(), Refusal>; 7]);
        let published: [Row; 11] = [
            (Need::Read, [ok, ok, ok, ok, ok, ok, ok]),
            (Need::ReadConference, [ok, ok, ok, ok, ok, ok, ok]),
            (Need::ReadDelegation(d), [ok, ok, ok, ok, ok, ok, ok]),
            (Need::Write, [tok, ed, ok, ok, ok, ed, ed]),
            (Need::Own, [tok, own, own, ok, ok, own, own]),
            (Need::ReadMembers(d), [mem, mem, ok, ok, ok, ok, del]),
            (Need::Nominate(d), [tok, ed, ok, ok, ok, ok, del]),
            (Need::EditDelegation(d), [tok, ed, ok, ok, ok, ok, ed]),
            (Need::Credentials(d), [tok, ed, ok, ok, ok, ok, del]),
            (Need::ReadCredentials(d), [del, del, ok, ok, ok, ok, del]),
            (Need::ReadParticipants, [part, part, ok, ok, ok, part, part]),
        ];
        for status in [ConferenceStatus::Published, ConferenceStatus::Cancelled] {
            let row = conference(status, false);
            for (need, expected) in &published {
                for (i, ((caller, standing), want)) in callers.iter().zip(expected).enumerate() {
                    assert_eq!(
                        decide(row, standing, *caller, *need),
                        *want,
                        "{status} {need:?} caller {i}"
                    );
                }
            }
        }
        // A draft does not exist for anyone without a grant on it; its focal points know it
        // but see only the conference and their own delegation.
        let (none, hid) = (Err(NoSuchConference), Err(DraftPrivate));
        let draft: [Row; 11] = [
            (Need::Read, [none, none, ok, ok, ok, hid, hid]),
            (Need::ReadConference, [none, none, ok, ok, ok, ok, ok]),
            (Need::ReadDelegation(d), [none, none, ok, ok, ok, ok, hid]),
            (Need::Write, [none, none, ok, ok, ok, ed, ed]),
            (Need::Own, [none, none, own, ok, ok, own, own]),
            (Need::ReadMembers(d), [none, none, ok, ok, ok, ok, del]),
            (Need::Nominate(d), [none, none, ok, ok, ok, ok, del]),
            (Need::EditDelegation(d), [none, none, ok, ok, ok, ok, ed]),
            (Need::Credentials(d), [none, none, ok, ok, ok, ok, del]),
            (Need::ReadCredentials(d), [none, none, ok, ok, ok, ok, del]),
            (Need::ReadParticipants, [none, none, ok, ok, ok, hid, hid]),
        ];
        let row = conference(ConferenceStatus::Draft, true);
        for (need, expected) in &draft {
            for (i, ((caller, standing), want)) in callers.iter().zip(expected).enumerate() {
                assert_eq!(
                    decide(row, standing, *caller, *need),
                    *want,
                    "draft {need:?} caller {i}"
                );
            }
        }
        // A public list of participants is everyone's.
        let public = conference(ConferenceStatus::Published, true);
        let nobody = Standing::default();
        assert_eq!(
            decide(public, &nobody, None, Need::ReadParticipants),
            Ok(())
        );
    }

    /// Check-in staff: the conference (a draft's too), badges and scans; organisers' reads
    /// hidden as from a stranger; every other need 403.
    #[test]
    fn check_in_staff_read_badges_and_scan_only() {
        let d = Uuid::now_v7();
        let staff = Caller {
            id: Uuid::now_v7(),
            is_admin: false,
            is_organiser: true,
        };
        let standing = Standing {
            role: Some(OrganiserRole::CheckIn),
            focal_point_of: vec![],
        };
        for status in [ConferenceStatus::Published, ConferenceStatus::Draft] {
            let c = conference(status, false);
            for need in [
                Need::Read,
                Need::ReadConference,
                Need::ReadDelegation(d),
                Need::ReadBadge(d),
                Need::CheckIn,
            ] {
                assert_eq!(decide(c, &standing, Some(staff), need), Ok(()), "{need:?}");
            }
            for need in [
                Need::Write,
                Need::Own,
                Need::Nominate(d),
                Need::EditDelegation(d),
                Need::Credentials(d),
            ] {
                assert_eq!(
                    decide(c, &standing, Some(staff), need),
                    Err(Refusal::CheckInOnly),
                    "{need:?}"
                );
            }
            assert_eq!(
                decide(c, &standing, Some(staff), Need::ReadMembers(d)),
                Err(Refusal::MembersPrivate)
            );
        }
        // Others: badges are the organisers' and the delegation's focal points'; scans need a
        // token and an organiser.
        let published = conference(ConferenceStatus::Published, false);
        let nobody = Standing::default();
        assert_eq!(
            decide(published, &nobody, None, Need::ReadBadge(d)),
            Err(Refusal::MembersPrivate)
        );
        assert_eq!(
            decide(published, &nobody, None, Need::CheckIn),
            Err(Refusal::TokenRequired)
        );
        assert_eq!(
            decide(published, &nobody, Some(staff), Need::CheckIn),
            Err(Refusal::NotAnEditor)
        );
        let focal = Standing {
            role: None,
            focal_point_of: vec![d],
        };
        assert_eq!(
            decide(published, &focal, Some(staff), Need::ReadBadge(d)),
            Ok(())
        );
        let editor = Standing {
            role: Some(OrganiserRole::Editor),
            focal_point_of: vec![],
        };
        assert_eq!(
            decide(published, &editor, Some(staff), Need::CheckIn),
            Ok(())
        );
    }

    #[test]
    fn the_organiser_grant_creates_and_a_focal_point_does_not() {
        let organiser = Caller {
            id: Uuid::now_v7(),
            is_admin: false,
            is_organiser: true,
        };
        let focal = Caller {
            is_organiser: false,
            ..organiser
        };
        let admin = Caller {
            is_admin: true,
            ..focal
        };
        assert_eq!(organiser_grant(organiser), Ok(()));
        assert_eq!(organiser_grant(admin), Ok(()));
        assert_eq!(organiser_grant(focal), Err(Refusal::NotAnOrganiser));
    }

    fn organiser_grant(caller: Caller) -> Result<(), Refusal> {
        organiser(caller)
    }

    #[test]
    fn a_focal_point_changes_only_its_fields() {
        let fields = |list: &'static [&'static str]| list.iter().copied();
        let (focal, organiser) = (true, false);
        assert_eq!(
            delegation_fields(focal, fields(&["size", "head", "authority"])),
            Ok(())
        );
        assert_eq!(
            delegation_fields(focal, fields(&["size", "status"])),
            Err(Refusal::FocalPointField)
        );
        assert_eq!(delegation_fields(organiser, fields(&["status"])), Ok(()));
        assert_eq!(
            member_fields(focal, fields(&["full_name", "nomination_note"])),
            Err(Refusal::ReviewIsOrganisers)
        );
        assert_eq!(
            member_fields(focal, fields(&["full_name", "category"])),
            Ok(())
        );
        assert_eq!(
            member_fields(organiser, fields(&["nomination_status"])),
            Ok(())
        );
    }

    #[test]
    fn every_refusal_has_its_status_and_one_message() {
        let all = [
            Refusal::TokenRequired,
            Refusal::NoSuchConference,
            Refusal::DraftPrivate,
            Refusal::NotAnEditor,
            Refusal::NotAnOwner,
            Refusal::NotAnOrganiser,
            Refusal::MembersPrivate,
            Refusal::DelegationPrivate,
            Refusal::FocalPointField,
            Refusal::ReviewIsOrganisers,
            Refusal::ParticipantsPrivate,
            Refusal::CheckInOnly,
        ];
        let messages: std::collections::HashSet<_> = all.iter().map(|r| r.message()).collect();
        assert_eq!(messages.len(), all.len());
        assert_eq!(Refusal::TokenRequired.kind(), RefusalKind::Unauthenticated);
        assert_eq!(Refusal::NotAnOwner.kind(), RefusalKind::Forbidden);
        assert_eq!(Refusal::NotAnOrganiser.kind(), RefusalKind::Forbidden);
        assert_eq!(Refusal::MembersPrivate.kind(), RefusalKind::Hidden);
        assert_eq!(Refusal::DelegationPrivate.kind(), RefusalKind::Hidden);
    }
}
