//! Editions of the official List of Participants (API.md "The official List of
//! Participants", "Editions"): numbered 1, 2, 3... per conference, `provisional` or `final`,
//! dated (`as_of`), each a frozen snapshot stored in `participant_editions`, never a query
//! over live rows, so later changes to delegations or members do not reach it.
//!
//! What is frozen is the list as the PUBLIC sees it ([`Audience::Public`]: no member emails,
//! never a gender), whoever makes the edition: an edition is a document meant to be
//! published, so it never holds private data, and organisers read the same edition as
//! everyone else. Genders are read from the members only to count them
//! ([`Statistics::by_gender`]) and are not stored per person.
//!
//! Concurrency: [`create`] locks the conference row `FOR UPDATE` and the conference's
//! delegations `FOR SHARE` inside its audited transaction. The first serialises editions
//! (simultaneous requests get 1 and 2; nothing follows a final one) and holds up new
//! delegations (their foreign key needs a share lock on the conference); the second holds up
//! changes to delegations and their members (member writes lock their delegation), so the
//! snapshot and the gender counts read one state. `UNIQUE (conference_id, number)` and the
//! partial unique index on the final edition are the database's backstops.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::ResourceKind;
use super::conferences::ConferenceRow;
use super::participants::{self, ParticipantDelegation, Participants};
use super::write::{self, Audited, Input, Scope, UNCONDITIONAL};
use super::{new_id, Caller, StoreError};
use crate::access::{Audience, Need};
use crate::db::schema::{conferences, delegation_members, delegations, participant_editions};
use crate::domain::country::CountryIndex;
use crate::domain::vocab::{EditionKind, Gender, MemberCategory, NominationStatus};

/// `{"number", "kind", "as_of"}`: which edition a body is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EditionHeader {
    /// 1, 2, 3... within the conference, in the order the editions were made.
    pub number: i32,
    /// `provisional` or `final`.
    pub kind: EditionKind,
    /// When the edition was made (RFC 3339, UTC, microseconds): the instant the list was
    /// frozen.
    pub as_of: DateTime<Utc>,
}

/// Accepted members per category, in [`MemberCategory`]'s order.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ByCategory {
    /// Representatives.
    pub representative: u32,
    /// Alternates.
    pub alternate: u32,
    /// Advisers.
    pub adviser: u32,
    /// Experts.
    pub expert: u32,
    /// Observers.
    pub observer: u32,
    /// Support staff.
    pub support: u32,
}

impl ByCategory {
    fn count(&mut self, category: MemberCategory) {
        let slot = match category {
            MemberCategory::Representative => &mut self.representative,
            MemberCategory::Alternate => &mut self.alternate,
            MemberCategory::Adviser => &mut self.adviser,
            MemberCategory::Expert => &mut self.expert,
            MemberCategory::Observer => &mut self.observer,
            MemberCategory::Support => &mut self.support,
        };
        *slot += 1;
    }
}

/// Accepted members per gender as the delegations stated it; `unknown` where none was stated.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ByGender {
    /// Women.
    pub female: u32,
    /// Men.
    pub male: u32,
    /// Another gender.
    pub other: u32,
    /// No gender stated.
    pub unknown: u32,
}

/// The counts of an edition: `{"delegations", "participants", "by_category": {...},
/// "by_gender": {"female", "male", "other", "unknown"}}`. Counts only: no one's gender is in
/// any list.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Statistics {
    /// Delegations listed.
    pub delegations: u32,
    /// Participants listed (accepted members of the listed delegations).
    pub participants: u32,
    /// Participants per category; the counts add up to `participants`.
    pub by_category: ByCategory,
    /// Participants per gender; the counts add up to `participants`.
    pub by_gender: ByGender,
}

/// An edition in the list `GET .../participants/editions` (and its audit entry):
/// `{"number", "kind", "as_of", "statistics"}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EditionSummary {
    /// See [`EditionHeader::number`].
    pub number: i32,
    /// `provisional` or `final`.
    pub kind: EditionKind,
    /// See [`EditionHeader::as_of`].
    pub as_of: DateTime<Utc>,
    /// The counts.
    pub statistics: Statistics,
}

/// One edition as `POST` and `GET .../participants/editions/{number}` return it: the frozen
/// body of `GET .../participants` (`conference`, `delegations`, as they were), plus
/// `edition` (`{"number", "kind", "as_of"}`), the same three at the top level,
/// `participants` (the number of participants listed) and `statistics`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Edition {
    /// See [`EditionHeader::number`].
    pub number: i32,
    /// `provisional` or `final`.
    pub kind: EditionKind,
    /// See [`EditionHeader::as_of`].
    pub as_of: DateTime<Utc>,
    /// The same three, as `{"number", "kind", "as_of"}`.
    pub edition: EditionHeader,
    /// The number of participants listed (`statistics.participants`).
    pub participants: u32,
    /// The counts.
    pub statistics: Statistics,
    /// The frozen list of participants: `conference` and `delegations` as they were.
    #[serde(flatten)]
    pub list: Map<String, Value>,
}

/// A `participant_editions` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = participant_editions, treat_none_as_default_value = false)]
pub struct EditionRow {
    /// UUID v7 (the audit log's `resource_id`).
    pub id: Uuid,
    /// The conference.
    pub conference_id: Uuid,
    /// 1, 2, 3...
    pub number: i32,
    /// `provisional` or `final`.
    pub kind: EditionKind,
    /// When it was made.
    pub as_of: DateTime<Utc>,
    /// The frozen `GET .../participants` body for the public.
    pub snapshot: Value,
    /// [`Statistics`] as JSON.
    pub statistics: Value,
    /// The organiser who made it (null once deleted).
    pub created_by: Option<Uuid>,
}

/// A stored document that no longer reads as what was written: a bug, so a 500.
fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e)))
}

impl EditionRow {
    /// The stored counts. Errors: 500 when they do not read back.
    pub fn statistics(&self) -> Result<Statistics, StoreError> {
        serde_json::from_value(self.statistics.clone()).map_err(corrupt)
    }

    /// The list entry. Errors: as [`EditionRow::statistics`].
    pub fn summary(&self) -> Result<EditionSummary, StoreError> {
        Ok(EditionSummary {
            number: self.number,
            kind: self.kind,
            as_of: self.as_of,
            statistics: self.statistics()?,
        })
    }

    /// The whole edition. Errors: as [`EditionRow::statistics`], or a snapshot that is not an
    /// object (500).
    pub fn edition(&self) -> Result<Edition, StoreError> {
        let statistics = self.statistics()?;
        let list = match &self.snapshot {
            Value::Object(map) => map.clone(),
            _ => {
                return Err(corrupt(serde::de::Error::custom(
                    "snapshot is not an object",
                )))
            }
        };
        Ok(Edition {
            number: self.number,
            kind: self.kind,
            as_of: self.as_of,
            edition: EditionHeader {
                number: self.number,
                kind: self.kind,
                as_of: self.as_of,
            },
            participants: statistics.participants,
            statistics,
            list,
        })
    }

    /// The frozen delegations, read back into the types of the live list so that the one CSV
    /// writer ([`crate::export::table::participants_csv`]) renders both. Errors: 500 when the
    /// snapshot does not read back.
    pub fn delegations(&self) -> Result<Vec<ParticipantDelegation>, StoreError> {
        let delegations = self
            .snapshot
            .get("delegations")
            .cloned()
            .unwrap_or(Value::Null);
        serde_json::from_value(delegations).map_err(corrupt)
    }
}

impl Audited for EditionRow {
    const KIND: ResourceKind = ResourceKind::Edition;
    /// The log records the summary (number, kind, as_of, counts), not the whole snapshot.
    type Repr = Value;
    fn id(&self) -> Uuid {
        self.id
    }
    fn repr(&self) -> Value {
        serde_json::json!({
            "number": self.number,
            "kind": self.kind,
            "as_of": self.as_of,
            "statistics": self.statistics,
        })
    }
    fn conference_id(&self) -> Option<Uuid> {
        Some(self.conference_id)
    }
}

/// The counts of `list`, with the genders of its members: `genders` holds one entry per
/// accepted member of the listed delegations (`None` where none was stated).
fn statistics(list: &Participants, genders: &[Option<Gender>]) -> Statistics {
    let mut s = Statistics {
        delegations: u32::try_from(list.delegations.len()).unwrap_or(u32::MAX),
        ..Statistics::default()
    };
    for member in list.delegations.iter().flat_map(|d| &d.members) {
        s.participants += 1;
        s.by_category.count(member.category);
    }
    for gender in genders {
        let slot = match gender {
            Some(Gender::Female) => &mut s.by_gender.female,
            Some(Gender::Male) => &mut s.by_gender.male,
            Some(Gender::Other) => &mut s.by_gender.other,
            None => &mut s.by_gender.unknown,
        };
        *slot += 1;
    }
    s
}

/// Makes the next edition of the list of participants of `conference_id` (audited; the
/// conference's organisers, `Need::Write`) and returns it as stored: numbered one past the
/// last, `as_of` now, the list frozen as the public sees it now with its statistics. See the module's notes on
/// locking. Errors, in this order: 404, 403 (access), 422 (the body, `kind`), 409
/// ([`StoreError::Conflict`]) once a final edition exists.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    countries: &CountryIndex,
    conference_id: Uuid,
    kind: Input<EditionKind>,
) -> Result<Edition, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        let kind = kind.value()?;
        let conn = &mut *tx.conn;
        let conference: ConferenceRow = conferences::table
            .find(conference_id)
            .for_update()
            .select(ConferenceRow::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| StoreError::not_found("no such conference"))?;
        let _locked: Vec<Uuid> = delegations::table
            .filter(delegations::conference_id.eq(conference_id))
            .order(delegations::id)
            .select(delegations::id)
            .for_share()
            .load(conn)
            .await?;
        let earlier: Vec<(i32, EditionKind)> = participant_editions::table
            .filter(participant_editions::conference_id.eq(conference_id))
            .select((participant_editions::number, participant_editions::kind))
            .load(conn)
            .await?;
        if earlier.iter().any(|(_, k)| *k == EditionKind::Final) {
            return Err(StoreError::Conflict(
                "the final edition of the list of participants has been made; no edition follows it"
                    .to_string(),
            ));
        }
        let number = earlier.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let list =
            participants::of_conference(conn, countries, conference, Audience::Public).await?;
        let listed: Vec<Uuid> = list.delegations.iter().map(|d| d.delegation_id).collect();
        let genders: Vec<Option<Gender>> = delegation_members::table
            .filter(delegation_members::delegation_id.eq_any(&listed))
            .filter(delegation_members::nomination_status.eq(NominationStatus::Accepted))
            .select(delegation_members::gender)
            .load(conn)
            .await?;
        let statistics = statistics(&list, &genders);
        let row = EditionRow {
            id: new_id(),
            conference_id,
            number,
            kind,
            as_of: Utc::now(),
            snapshot: serde_json::to_value(&list).map_err(corrupt)?,
            statistics: serde_json::to_value(statistics).map_err(corrupt)?,
            created_by: Some(caller.id),
        };
        let saved: EditionRow = diesel::insert_into(participant_editions::table)
            .values(&row)
            .returning(EditionRow::as_returning())
            .get_result(conn)
            .await?;
        tx.created(&saved);
        saved.edition()
    })
    .await
}

/// The editions of a conference, oldest first (by number). The caller has checked that the
/// caller may read the list of participants.
pub async fn list(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> Result<Vec<EditionSummary>, StoreError> {
    let rows: Vec<EditionRow> = participant_editions::table
        .filter(participant_editions::conference_id.eq(conference_id))
        .order(participant_editions::number.asc())
        .select(EditionRow::as_select())
        .load(conn)
        .await?;
    rows.iter().map(EditionRow::summary).collect()
}

/// Edition `number` of a conference. Errors: 404 when it has no such edition.
pub async fn get(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    number: i32,
) -> Result<EditionRow, StoreError> {
    participant_editions::table
        .filter(participant_editions::conference_id.eq(conference_id))
        .filter(participant_editions::number.eq(number))
        .select(EditionRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| StoreError::not_found("no such edition of the list of participants"))
}
