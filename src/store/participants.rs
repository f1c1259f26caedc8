//! The list of participants of a conference: every delegation that counts as attending
//! (registered, confirmed, attended) by [`Section`] (states, observer states,
//! intergovernmental organisations, other organisations) and in protocol order within each
//! ([`Line::list_key`]), with its accepted members (head first, then by category in
//! [`MemberCategory`]'s order, then in the order they were added). Members' genders are never
//! in it.
//!
//! Who may read it is decided by the route (`routes::participants::list`): the
//! conference's organisers, and everyone once `participants_public` is true. Member emails
//! are only ever loaded for organisers ([`Audience::Organisers`], an [`crate::access`] value).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Audience;
use crate::domain::country::CountryIndex;

use super::conferences::ConferenceRow;
use super::members::MemberRow;
use super::protocol::{self, Line};
use crate::db::schema::delegation_members;
use crate::domain::conference::Conference;
use crate::domain::delegation::Head;
use crate::domain::vocab::{MemberCategory, NominationStatus, Section};

/// An accepted member of a delegation in the list of participants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Participant {
    /// The member (not in the body: the badges read it, [`super::badges::sheet`]).
    #[serde(skip)]
    pub member_id: Uuid,
    /// Form of address (`"H.E."`), if any.
    pub honorific: Option<String>,
    /// Full name in Latin script.
    pub full_name: String,
    /// The part of the name a list sorts and capitalises by, if given.
    pub family_name: Option<String>,
    /// The name in the person's own script, if given.
    pub native_name: Option<String>,
    /// Title or rank (`"H.E."`, `"Director-General"`), if any.
    pub title: Option<String>,
    /// Position or function, if any.
    pub position: Option<String>,
    /// Representative, alternate, adviser, expert, observer or support.
    pub category: MemberCategory,
    /// Head of delegation.
    pub is_head: bool,
    /// Email: present (possibly null) for organisers only; the key is absent publicly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Option<String>>,
}

/// A delegation in the list of participants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParticipantDelegation {
    /// 1-based position in the list (sections in order, protocol order within each).
    pub position: usize,
    /// The section of the list the delegation is in.
    pub section: Section,
    /// The delegation.
    pub delegation_id: Uuid,
    /// Alpha-2 of a state's delegation, else null.
    pub country: Option<String>,
    /// The organisation of an organisation's delegation, else null.
    pub organisation_id: Option<Uuid>,
    /// UN English short name of the state (`un_name`), or the organisation's name.
    pub name: String,
    /// The organisation's acronym, if any.
    pub acronym: Option<String>,
    /// The sending authority, if stated.
    pub authority: Option<String>,
    /// Role at the conference.
    pub role: crate::domain::vocab::DelegationRole,
    /// Status (registered, confirmed or attended).
    pub status: crate::domain::vocab::DelegationStatus,
    /// The head of delegation ([`super::delegations::DelegationRow::head`]: the head member,
    /// else the head stated on the delegation), if any.
    pub head: Option<Head>,
    /// Stated size, or null.
    pub size: Option<i32>,
    /// Accepted members: head first, then by category, then in the order they were added.
    pub members: Vec<Participant>,
}

/// `GET /conferences/{id}/participants`.
#[derive(Debug, Clone, Serialize)]
pub struct Participants {
    /// The conference.
    pub conference: Conference,
    /// Delegations by section, in protocol order within each.
    pub delegations: Vec<ParticipantDelegation>,
}

/// Builds the list of participants of a conference for `audience`.
pub async fn of_conference(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference: ConferenceRow,
    audience: Audience,
) -> QueryResult<Participants> {
    let mut lines: Vec<Line> = protocol::lines(conn, countries, conference.id)
        .await?
        .into_iter()
        .filter(Line::counts)
        .collect();
    lines.sort_by_cached_key(Line::list_key);
    let ids: Vec<Uuid> = lines.iter().map(|l| l.delegation.id).collect();
    let mut rows: Vec<MemberRow> = delegation_members::table
        .filter(delegation_members::delegation_id.eq_any(&ids))
        .filter(delegation_members::nomination_status.eq(NominationStatus::Accepted))
        .select(MemberRow::as_select())
        .load(conn)
        .await?;
    // Head first, then by category (the vocabulary's order, not the text's), then as added
    // (ids are v7, so they sort by creation time).
    rows.sort_by_key(|m| (m.delegation_id, !m.is_head, m.category, m.id));
    let mut members: HashMap<Uuid, Vec<Participant>> = HashMap::new();
    for m in rows {
        members
            .entry(m.delegation_id)
            .or_default()
            .push(Participant {
                member_id: m.id,
                honorific: m.honorific,
                full_name: m.full_name,
                family_name: m.family_name,
                native_name: m.native_name,
                title: m.title,
                position: m.position,
                category: m.category,
                is_head: m.is_head,
                email: match audience {
                    Audience::Organisers => Some(m.email),
                    Audience::Public => None,
                },
            });
    }
    let delegations = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let section = l.section();
            let d = l.delegation;
            let head = d.head();
            ParticipantDelegation {
                position: i + 1,
                section,
                members: members.remove(&d.id).unwrap_or_default(),
                delegation_id: d.id,
                country: d.country,
                organisation_id: d.organisation_id,
                name: l.name,
                acronym: l.acronym,
                authority: d.authority,
                role: d.role,
                status: d.status,
                head,
                size: d.size,
            }
        })
        .collect();
    Ok(Participants {
        conference: conference.into(),
        delegations,
    })
}
