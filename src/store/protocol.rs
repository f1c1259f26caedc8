//! Protocol order: the order in which a conference's delegations are listed in official
//! documents (list of participants, attendance, seating).
//!
//! The computed order follows the sections of the list of participants ([`Section`]): states
//! (host, members, guests), observer states, intergovernmental organisations, other
//! organisations. Within a section delegations sort by name (a state's UN English short
//! name), names compared ignoring letter case, accents and a leading "the" (see
//! [`sort_name`]); a host delegation comes first in its section, or last with the
//! conference's `protocol_host: "last"`. A conference may store its own explicit order (e.g.
//! drawn by lot) with `PUT /conferences/{id}/protocol-order`: the delegations it lists come
//! first, in that order, and any other delegation follows in the computed order
//! ([`Line::protocol_key`]). The list of participants keeps its sections together: it lists
//! by section, and within a section in protocol order ([`Line::list_key`]), so an explicit
//! order applies within each section there.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::audit::ResourceKind;
use super::delegations::{DelegationFilter, DelegationRow};
use super::write::{self, Audited, Input, Scope};
use super::{paginate, Caller, Page, PageRequest, StoreError};
use crate::access::Need;
use crate::db::schema::{conferences, delegation_protocol_ranks, delegations};
use crate::domain::country::CountryIndex;
use crate::domain::delegation::{display_name, Delegation};
use crate::domain::precondition::IfMatch;
use crate::domain::vocab::{DelegationRole, ProtocolHost, Section};

pub use super::attendance::sort_name;

/// One delegation with what ordering and the exports need: its party's display name and its
/// explicit rank, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The delegation.
    pub delegation: DelegationRow,
    /// English short name of the state (ISO 3166-1), or the organisation's name.
    pub name: String,
    /// The organisation's acronym (null for states and organisations without one).
    pub acronym: Option<String>,
    /// The organisation's `kind` (`"intergovernmental"`, ...; null for states).
    pub organisation_kind: Option<String>,
    /// Position in the conference's explicit protocol order (1-based), if it has one.
    pub rank: Option<i32>,
    /// The conference's `protocol_host`: where a host delegation goes.
    pub host: ProtocolHost,
}

/// The sort key of a delegation in protocol order: explicit rank (`u32::MAX` when none),
/// group (twice the index of its [`Section`], plus 1 for the delegations after the first
/// place: host first, 0 the host state, 1 the other states, 2 observer states, 4 a host
/// intergovernmental organisation, 5 the other ones, ...; host last, 0 the states, 1 the
/// host state, ...), [`sort_name`], id. Also the keyset of lists in protocol order, so it is
/// serialised into cursors.
pub type ProtocolKey = (u32, u8, String, Uuid);

impl Line {
    /// The delegation's name as lists show it ([`display_name`]).
    pub fn display_name(&self) -> String {
        display_name(&self.name, self.acronym.as_deref())
    }

    /// True for a state's delegation, false for an organisation's.
    pub fn is_state(&self) -> bool {
        self.delegation.country.is_some()
    }

    /// True when the delegation's status counts as attendance (registered, confirmed,
    /// attended).
    pub fn counts(&self) -> bool {
        self.delegation.status.counts()
    }

    /// The section of the list of participants this delegation belongs to.
    pub fn section(&self) -> Section {
        Section::of(
            self.is_state(),
            self.delegation.role,
            self.organisation_kind.as_deref(),
        )
    }

    /// This delegation's place in protocol order.
    pub fn protocol_key(&self) -> ProtocolKey {
        let rank = self
            .rank
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(u32::MAX);
        let host = self.delegation.role == DelegationRole::Host;
        let after_first = match self.host {
            ProtocolHost::First => !host,
            ProtocolHost::Last => host,
        };
        let section = self.section() as u8;
        let group = section * 2 + u8::from(after_first);
        (rank, group, sort_name(&self.name), self.delegation.id)
    }

    /// This delegation's place in the list of participants: its section, then its
    /// [`Line::protocol_key`] (an explicit order applies within each section).
    pub fn list_key(&self) -> (Section, ProtocolKey) {
        (self.section(), self.protocol_key())
    }
}

/// Sorts lines into protocol order.
pub fn sort(lines: &mut [Line]) {
    lines.sort_by_cached_key(Line::protocol_key);
}

/// Defines a scalar subquery selecting one column of a delegation's organisation:
/// `(SELECT organisations.<column> FROM organisations WHERE organisations.id =
/// delegations.organisation_id)`, NULL for a state's delegation.
macro_rules! organisation_column {
    ($(#[$doc:meta])* $name:ident, $column:literal) => {
        super::delegations::delegation_subquery!(
            $(#[$doc])*
            $name,
            delegations::organisation_id,
            concat!(
                "(SELECT \"organisations\".\"",
                $column,
                "\" FROM \"organisations\" WHERE \"organisations\".\"id\" = ",
                "\"delegations\".\"organisation_id\")"
            )
        );
    };
}

organisation_column!(
    /// The name of a delegation's organisation (NULL for a state's delegation).
    OrganisationName,
    "name"
);
organisation_column!(
    /// The kind of a delegation's organisation (NULL for a state's delegation).
    OrganisationKind,
    "kind"
);
organisation_column!(
    /// The acronym of a delegation's organisation (NULL for a state's delegation or an
    /// organisation without one).
    OrganisationAcronym,
    "acronym"
);

/// A delegation with its organisation's name, acronym and kind, its rank and its
/// conference's `protocol_host`.
type LineRow = (
    DelegationRow,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
    ProtocolHost,
);

/// Every delegation of a conference (any status) with names and ranks, in protocol order.
///
/// One statement whose cost follows the conference's delegations only, whatever the size of
/// the other tables: state names come from `countries` (the ISO 3166-1 index loaded at
/// start; the `countries` table changes only when a migration syncs it), organisation names
/// from a primary-key lookup per delegation (scalar subqueries: with a join, PostgreSQL's
/// generic plan hashed the whole `organisations` table on every request once it had 100 000
/// conferences, benches/RESULTS.md), ranks from the conference's own ranks, and the
/// conference's `protocol_host` from its row (a primary-key join).
pub async fn lines(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference_id: Uuid,
) -> QueryResult<Vec<Line>> {
    let rows: Vec<LineRow> = delegations::table
        .inner_join(conferences::table)
        .left_join(
            delegation_protocol_ranks::table.on(delegation_protocol_ranks::delegation_id
                .eq(delegations::id)
                .and(delegation_protocol_ranks::conference_id.eq(conference_id))),
        )
        .filter(delegations::conference_id.eq(conference_id))
        .select((
            DelegationRow::as_select(),
            OrganisationName,
            OrganisationAcronym,
            OrganisationKind,
            delegation_protocol_ranks::rank.nullable(),
            conferences::protocol_host,
        ))
        .load(conn)
        .await?;
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(
            |(delegation, organisation, acronym, organisation_kind, rank, host)| {
                let country = delegation
                    .country
                    .as_deref()
                    .and_then(|code| countries.name(code));
                Line {
                    name: country
                        .map(str::to_string)
                        .or(organisation)
                        .unwrap_or_default(),
                    acronym,
                    organisation_kind,
                    rank,
                    host,
                    delegation,
                }
            },
        )
        .collect();
    sort(&mut lines);
    Ok(lines)
}

/// `GET`/`PUT /conferences/{id}/protocol-order`: the explicit order, first to last.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExplicitOrder {
    /// Delegations in their explicit order; empty when the conference uses the computed order.
    pub delegation_ids: Vec<Uuid>,
}

/// The explicit protocol order of a conference (empty when it has none).
pub async fn explicit_order(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<ExplicitOrder> {
    let delegation_ids = delegation_protocol_ranks::table
        .filter(delegation_protocol_ranks::conference_id.eq(conference_id))
        .order(delegation_protocol_ranks::rank.asc())
        .select(delegation_protocol_ranks::delegation_id)
        .load(conn)
        .await?;
    Ok(ExplicitOrder { delegation_ids })
}

/// Checks that every id is a delegation of `conference_id`. Errors: 422 naming `field` and
/// the foreign ids.
pub async fn check_same_conference(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    ids: &[Uuid],
    field: &str,
) -> Result<(), StoreError> {
    let found: Vec<Uuid> = delegations::table
        .filter(delegations::conference_id.eq(conference_id))
        .filter(delegations::id.eq_any(ids))
        .select(delegations::id)
        .load(conn)
        .await?;
    let foreign: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains(id))
        .map(Uuid::to_string)
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(StoreError::field(
            field,
            format!("not delegations of this conference: {}", foreign.join(", ")),
        ))
    }
}

/// Replaces the explicit protocol order of a conference with `ids` (first to last); an empty
/// list returns the conference to the computed order. Runs in one transaction that locks the
/// conference row (`FOR NO KEY UPDATE`), so concurrent replacements apply one after the other,
/// checks `If-Match` against the current order, and records the change in the audit log
/// (`update` of resource type `protocol_order`, id the conference's).
///
/// Errors, in this order: the access check (organisers, [`Need::Write`]); 422 (the body);
/// 412 (stale `If-Match`); 422 (`delegation_ids`) when an id is not a delegation of this
/// conference.
pub async fn set_explicit_order(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    if_match: &IfMatch,
    input: Input<Vec<Uuid>>,
) -> Result<ExplicitOrder, StoreError> {
    let saved = write::update(
        conn,
        Scope::conference(caller, conference_id, Need::Write, if_match),
        async |conn| {
            input.value()?;
            conferences::table
                .find(conference_id)
                .select(conferences::id)
                .for_no_key_update()
                .first::<Uuid>(conn)
                .await?;
            let order = explicit_order(conn, conference_id).await?;
            Ok(OrderOf {
                conference_id,
                order,
            })
        },
        async |conn, _| {
            let ids = input.value()?;
            check_same_conference(conn, conference_id, &ids, "delegation_ids").await?;
            diesel::delete(
                delegation_protocol_ranks::table
                    .filter(delegation_protocol_ranks::conference_id.eq(conference_id)),
            )
            .execute(conn)
            .await?;
            let rows: Vec<_> = ids
                .iter()
                .zip(1..)
                .map(|(id, rank): (&Uuid, i32)| {
                    (
                        delegation_protocol_ranks::delegation_id.eq(*id),
                        delegation_protocol_ranks::conference_id.eq(conference_id),
                        delegation_protocol_ranks::rank.eq(rank),
                    )
                })
                .collect();
            if !rows.is_empty() {
                diesel::insert_into(delegation_protocol_ranks::table)
                    .values(&rows)
                    .execute(conn)
                    .await?;
            }
            Ok(OrderOf {
                conference_id,
                order: ExplicitOrder {
                    delegation_ids: ids.clone(),
                },
            })
        },
    )
    .await?;
    Ok(saved.order)
}

/// The explicit order of one conference, as the audit log sees it (`protocol_order`, id the
/// conference's).
struct OrderOf {
    conference_id: Uuid,
    order: ExplicitOrder,
}

impl Audited for OrderOf {
    const KIND: ResourceKind = ResourceKind::ProtocolOrder;
    type Repr = ExplicitOrder;
    fn id(&self) -> Uuid {
        self.conference_id
    }
    fn repr(&self) -> ExplicitOrder {
        self.order.clone()
    }
}

/// Delegations of a conference (`?status=`/`?role=` as in the default list) in protocol
/// order, keyset-paginated on [`ProtocolKey`]: a delegation added while paging takes its place
/// in the order without repeating or skipping one that existed.
pub async fn list_delegations(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    conference_id: Uuid,
    filter: &DelegationFilter,
    page: &PageRequest<ProtocolKey>,
) -> QueryResult<Page<Delegation>> {
    let rows: Vec<(ProtocolKey, DelegationRow)> = lines(conn, countries, conference_id)
        .await?
        .into_iter()
        .filter(|l| filter.status.is_none_or(|s| l.delegation.status == s))
        .filter(|l| filter.role.is_none_or(|r| l.delegation.role == r))
        .map(|l| (l.protocol_key(), l.delegation))
        .filter(|(key, _)| page.after.as_ref().is_none_or(|after| key > after))
        .take(usize::try_from(page.limit).unwrap_or(0).saturating_add(1))
        .collect();
    Ok(paginate(
        rows,
        page.limit,
        |(key, _)| key.clone(),
        |(_, row)| Delegation::from(row),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::delegations::{HeadMemberName, HeadMemberTitle};
    use diesel::pg::Pg;
    use diesel::query_builder::{QueryFragment, QueryId};

    /// `lines` runs on every attendance, participants and export request: its statement must
    /// stay in diesel's per-connection cache. A `diesel::dsl::sql` fragment made it uncached,
    /// so each request prepared and planned it again (7 ms of planning, the throughput of
    /// scenario A fell by 40 %, benches/RESULTS.md).
    #[test]
    fn the_organisation_and_head_subqueries_can_be_cached_as_prepared_statements() {
        fn check<T: QueryFragment<Pg> + QueryId>(fragment: T) {
            assert!(T::HAS_STATIC_QUERY_ID);
            assert_eq!(fragment.is_safe_to_cache_prepared(&Pg).ok(), Some(true));
        }
        check(OrganisationName);
        check(OrganisationAcronym);
        check(OrganisationKind);
        check(HeadMemberName);
        check(HeadMemberTitle);
        check(DelegationRow::as_select());
        let query = delegations::table
            .left_join(
                delegation_protocol_ranks::table
                    .on(delegation_protocol_ranks::delegation_id.eq(delegations::id)),
            )
            .select((
                DelegationRow::as_select(),
                OrganisationName,
                OrganisationAcronym,
            ));
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.contains(r#"(SELECT "organisations"."acronym" FROM "organisations" WHERE "organisations"."id" = "delegations"."organisation_id")"#),
            "{sql}"
        );
        assert!(
            sql.contains(r#"(SELECT "delegation_members"."full_name" FROM "delegation_members" WHERE "delegation_members"."delegation_id" = "delegations"."id" AND "delegation_members"."is_head" AND "delegation_members"."nomination_status" = 'accepted')"#),
            "{sql}"
        );
    }
}
