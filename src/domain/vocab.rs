//! The closed vocabularies of Plenary (API.md): conference statuses, organiser roles,
//! delegation roles and statuses, session and organisation kinds, the host's place in protocol
//! order, members' categories, genders, nomination statuses and kinds of edition of the list
//! of participants. Each is a Rust enum that is written to JSON and to PostgreSQL (`text`
//! columns, kept to these values by `CHECK` constraints) as its snake_case name, and read back
//! from both, so no code compares status strings.

use std::io::Write as _;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;

/// Defines a vocabulary: an enum with its names, `ALL`, `as_str`, `parse`, serde and diesel
/// mappings.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every name, in the order of the API's documentation.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The name, as in JSON and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value with this exact name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// Reads the exact name back (stored snapshots, e.g. editions of the list of
        /// participants); any other text is an error.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&text, $name::ALL)
                })
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                $name::parse(&text)
                    .ok_or_else(|| format!("unknown {}: {text:?}", stringify!($name)).into())
            }
        }
    };
}

vocabulary! {
    /// The status of a conference; drafts are visible to their organisers only.
    ConferenceStatus {
        /// Being prepared: organisers only.
        Draft = "draft",
        /// Public.
        Published = "published",
        /// Public, marked cancelled (calendars write `STATUS:CANCELLED`).
        Cancelled = "cancelled",
    }
}

vocabulary! {
    /// An organiser's role on a conference.
    OrganiserRole {
        /// Changes the conference and manages its organisers.
        Owner = "owner",
        /// Changes the conference.
        Editor = "editor",
        /// Check-in staff: reads the conference, its badges and their key, and records
        /// check-ins; nothing else.
        CheckIn = "check_in",
    }
}

impl OrganiserRole {
    /// Whether the role changes the conference (owners and editors; not check-in staff).
    pub fn writes(self) -> bool {
        matches!(self, OrganiserRole::Owner | OrganiserRole::Editor)
    }
}

vocabulary! {
    /// The role of a delegation at a conference.
    DelegationRole {
        /// The host: first in protocol order.
        Host = "host",
        /// A member.
        Member = "member",
        /// An observer.
        Observer = "observer",
        /// A guest.
        Guest = "guest",
    }
}

vocabulary! {
    /// The state of a delegation's letter of credentials (API.md "Accreditation").
    CredentialsStatus {
        /// Nothing uploaded.
        None = "none",
        /// Uploaded, awaiting review (again after every new upload).
        Submitted = "submitted",
        /// Accepted provisionally by the secretariat.
        Provisional = "provisional",
        /// Verified by the secretariat.
        Verified = "verified",
        /// Rejected by the secretariat.
        Rejected = "rejected",
    }
}

vocabulary! {
    /// The status of a delegation; `registered`, `confirmed` and `attended` count as
    /// attendance ([`DelegationStatus::counts`]).
    DelegationStatus {
        /// Invited.
        Invited = "invited",
        /// Registered.
        Registered = "registered",
        /// Confirmed.
        Confirmed = "confirmed",
        /// Attended.
        Attended = "attended",
        /// Declined.
        Declined = "declined",
        /// Withdrawn.
        Withdrawn = "withdrawn",
    }
}

impl DelegationStatus {
    /// The statuses that count in attendance.
    pub const COUNTING: &'static [DelegationStatus] = &[
        DelegationStatus::Registered,
        DelegationStatus::Confirmed,
        DelegationStatus::Attended,
    ];

    /// Whether a delegation with this status counts in attendance.
    pub fn counts(self) -> bool {
        Self::COUNTING.contains(&self)
    }
}

vocabulary! {
    /// Where a conference's host delegations go in protocol order (`protocol_host`).
    ProtocolHost {
        /// The host state first among the states, a host organisation first in its
        /// section.
        First = "first",
        /// The host state last among the states, a host organisation last in its section.
        Last = "last",
    }
}

vocabulary! {
    /// The section of the list of participants a delegation belongs to (API.md "The official
    /// List of Participants"), in the order the sections are listed.
    Section {
        /// States: the host, members and guests.
        States = "states",
        /// States with the role `observer`.
        ObserverStates = "observer_states",
        /// Organisations of kind `intergovernmental`.
        IntergovernmentalOrganisations = "intergovernmental_organisations",
        /// Every other organisation (government agencies, NGOs, others).
        OtherOrganisations = "other_organisations",
    }
}

impl Section {
    /// The section of a delegation: a state's (`is_state`) by its `role`, an organisation's
    /// by its `kind` (`organisation_kind`, `"intergovernmental"` or another).
    pub fn of(is_state: bool, role: DelegationRole, organisation_kind: Option<&str>) -> Self {
        match (is_state, role, organisation_kind) {
            (true, DelegationRole::Observer, _) => Section::ObserverStates,
            (true, _, _) => Section::States,
            (false, _, Some("intergovernmental")) => Section::IntergovernmentalOrganisations,
            (false, _, _) => Section::OtherOrganisations,
        }
    }

    /// The heading of the section on the printed list (UN English usage).
    pub fn heading(self) -> &'static str {
        match self {
            Section::States => "States",
            Section::ObserverStates => "Observer States",
            Section::IntergovernmentalOrganisations => "Intergovernmental organizations",
            Section::OtherOrganisations => "Other organizations",
        }
    }
}

vocabulary! {
    /// The category of a delegation member, in the order the list of participants uses; each
    /// has its own quota (`quotas.<category>`).
    MemberCategory {
        /// A representative (the default).
        Representative = "representative",
        /// An alternate representative.
        Alternate = "alternate",
        /// An adviser.
        Adviser = "adviser",
        /// An expert.
        Expert = "expert",
        /// An observer.
        Observer = "observer",
        /// Support staff.
        Support = "support",
    }
}

vocabulary! {
    /// A member's gender, as the delegation states it (never in a public list).
    Gender {
        /// Female.
        Female = "female",
        /// Male.
        Male = "male",
        /// Other.
        Other = "other",
    }
}

vocabulary! {
    /// Where a member's nomination stands: focal points nominate, organisers accept or reject.
    /// Nominated and accepted members count against quotas ([`NominationStatus::counts`]);
    /// only accepted ones are in the list of participants.
    NominationStatus {
        /// Proposed by the delegation's focal point, awaiting the organisers.
        Nominated = "nominated",
        /// Accepted by the organisers (the default for members they add).
        Accepted = "accepted",
        /// Rejected by the organisers.
        Rejected = "rejected",
    }
}

impl NominationStatus {
    /// Whether a member with this status takes a place under the quotas.
    pub fn counts(self) -> bool {
        self != NominationStatus::Rejected
    }
}

vocabulary! {
    /// The kind of an edition of the list of participants (API.md "The official List of
    /// Participants"): provisional ones while registration runs, one final one after the
    /// meeting, after which no edition follows.
    EditionKind {
        /// A provisional list; another edition may follow.
        Provisional = "provisional",
        /// The final list: the last edition.
        Final = "final",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for name in DelegationStatus::ALL {
            let status = DelegationStatus::parse(name).map(DelegationStatus::as_str);
            assert_eq!(status, Some(*name));
        }
        assert_eq!(ConferenceStatus::parse("Draft"), None);
        assert!(DelegationStatus::Attended.counts());
        assert!(!DelegationStatus::Declined.counts());
        assert!(NominationStatus::Nominated.counts() && !NominationStatus::Rejected.counts());
        // Sections: the order of the list, observers among states, organisations by kind.
        let mut sections: Vec<Section> = Section::ALL
            .iter()
            .filter_map(|s| Section::parse(s))
            .collect();
        sections.sort();
        assert_eq!(
            sections.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            Section::ALL
        );
        assert_eq!(
            Section::of(true, DelegationRole::Host, None),
            Section::States
        );
        assert_eq!(
            Section::of(true, DelegationRole::Guest, None),
            Section::States
        );
        assert_eq!(
            Section::of(true, DelegationRole::Observer, None),
            Section::ObserverStates
        );
        assert_eq!(
            Section::of(false, DelegationRole::Observer, Some("intergovernmental")),
            Section::IntergovernmentalOrganisations
        );
        assert_eq!(
            Section::of(false, DelegationRole::Member, Some("non_governmental")),
            Section::OtherOrganisations
        );
        // The list of participants sorts by category in the documented order.
        let mut sorted: Vec<_> = MemberCategory::ALL
            .iter()
            .rev()
            .filter_map(|c| MemberCategory::parse(c))
            .collect();
        sorted.sort();
        let names: Vec<&str> = sorted.into_iter().map(MemberCategory::as_str).collect();
        assert_eq!(names, MemberCategory::ALL);
    }

    #[test]
    fn names_read_back_from_json_and_others_are_refused() {
        let kind: Result<EditionKind, _> = serde_json::from_str("\"final\"");
        assert_eq!(kind.ok(), Some(EditionKind::Final));
        let written = serde_json::to_string(&MemberCategory::Adviser).unwrap_or_default();
        let read: Result<MemberCategory, _> = serde_json::from_str(&written);
        assert_eq!(read.ok(), Some(MemberCategory::Adviser));
        let draft: Result<EditionKind, _> = serde_json::from_str("\"draft\"");
        assert!(draft.is_err());
    }
}

vocabulary! {
    /// The category a badge shows (API.md "Badges, check-in and presence"): from the
    /// delegation's section unless an organiser sets another.
    BadgeCategory {
        /// A state party: the host, members and guests.
        Party = "party",
        /// An observer state.
        Observer = "observer",
        /// An organisation.
        Organisation = "organisation",
        /// A very important person.
        Vip = "vip",
        /// The press.
        Media = "media",
        /// The conference's secretariat.
        Secretariat = "secretariat",
        /// Security staff.
        Security = "security",
    }
}

impl BadgeCategory {
    /// The category of a delegation's section: `organisation` for an organisation
    /// (`is_state` false), `observer` for an observer state, `party` for the other states.
    pub fn of(is_state: bool, role: DelegationRole) -> Self {
        match (is_state, role) {
            (false, _) => BadgeCategory::Organisation,
            (true, DelegationRole::Observer) => BadgeCategory::Observer,
            (true, _) => BadgeCategory::Party,
        }
    }
}

vocabulary! {
    /// Where a badge stands.
    BadgeStatus {
        /// Issued, not yet scanned.
        Issued = "issued",
        /// Scanned at least once (accepted).
        Collected = "collected",
        /// No longer valid: reissued, or its member or delegation no longer accredited.
        Revoked = "revoked",
    }
}

vocabulary! {
    /// Which way a scan counts: into or out of the session (or venue).
    ScanDirection {
        /// Coming in.
        In = "in",
        /// Going out.
        Out = "out",
    }
}

vocabulary! {
    /// What one scan came to (API.md "Badges, check-in and presence").
    ScanResult {
        /// Valid: recorded.
        Accepted = "accepted",
        /// Its nonce was recorded already: nothing recorded.
        Repeat = "repeat",
        /// A revoked badge (an earlier version, or the member no longer accredited).
        Revoked = "revoked",
        /// Not a badge of Plenary: malformed, another algorithm, a bad signature.
        Invalid = "invalid",
        /// A valid badge of another conference.
        OtherConference = "other_conference",
        /// A current badge whose member is not accredited at the moment of the scan.
        NotAccredited = "not_accredited",
    }
}
