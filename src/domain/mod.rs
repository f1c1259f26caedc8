//! Parsed and validated domain values: what a request may contain, checked once, so that the
//! store and the routes never check it again.

pub mod attendance;
pub mod badge;
pub mod conference;
pub mod country;
pub mod delegation;
pub mod drafting;
pub mod edition;
pub mod input;
pub mod mail;
pub mod organisation;
pub mod precondition;
pub mod query;
pub mod session;
pub mod sheet;
pub mod text;
pub mod vocab;
pub mod webhook;

use uuid::Uuid;

/// Organisation kinds (API.md, "Organisations").
pub const ORGANISATION_KINDS: &[&str] = &[
    "intergovernmental",
    "government_agency",
    "non_governmental",
    "other",
];
/// Conference statuses; drafts are visible to their organisers only.
pub const CONFERENCE_STATUSES: &[&str] = vocab::ConferenceStatus::ALL;
/// Roles of a delegation at a conference.
pub const DELEGATION_ROLES: &[&str] = vocab::DelegationRole::ALL;
/// Statuses of a delegation; `registered`, `confirmed` and `attended` count as attendance.
pub const DELEGATION_STATUSES: &[&str] = vocab::DelegationStatus::ALL;
/// Kinds of session.
pub const SESSION_KINDS: &[&str] = &[
    "opening",
    "plenary",
    "panel",
    "bilateral",
    "closing",
    "side_event",
    "other",
];
/// Roles of an organiser on a conference.
pub const ORGANISER_ROLES: &[&str] = vocab::OrganiserRole::ALL;

/// Whether a parser reads a body for creation (required fields enforced) or for `PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST`: required fields must be present.
    Create,
    /// `PATCH`: every field optional; explicit null only for nullable fields.
    Patch,
}

/// Who is calling: an authenticated account (an `Option<Caller>` of `None` is nobody). What
/// it may do comes from its grants: admin, the organiser grant (create conferences and
/// organisations), organiser roles on conferences and focal-point grants on delegations,
/// the last two read per request by the store ([`crate::store::standing`]) and judged by
/// [`crate::access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The account's id.
    pub id: Uuid,
    /// Admins see and may change everything.
    pub is_admin: bool,
    /// The organiser grant (`plenary organiser add`): may create conferences and
    /// organisations and change organisations.
    pub is_organiser: bool,
}
