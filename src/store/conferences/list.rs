//! The conference list: which conferences a caller sees ([`visible_to`]), the one list filter
//! ([`conditions`]), and the date-ordered list.

use chrono::NaiveDate;
use diesel::dsl;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ConferenceRow;
use crate::db::schema::{conference_organisers, conferences, delegations};
use crate::domain::conference::Conference;
use crate::domain::vocab::ConferenceStatus;
use crate::store::search::{self, Fragment};
use crate::store::{paginate, Caller, Page, PageRequest};

/// Filters of the conference list.
#[derive(Debug, Default)]
pub struct ConferenceFilter {
    /// Full-text query over title, theme and venue (`websearch_to_tsquery` syntax).
    pub q: Option<String>,
    /// Venue country (alpha-2).
    pub country: Option<String>,
    /// A country with a delegation there.
    pub participant_country: Option<String>,
    /// An organisation with a delegation there.
    pub participant_organisation: Option<Uuid>,
    /// Dates overlap `from..=to`.
    pub from: Option<NaiveDate>,
    /// Dates overlap `from..=to`.
    pub to: Option<NaiveDate>,
    /// Exact status.
    pub status: Option<ConferenceStatus>,
}

/// The keyset of the conference list: newest `start_date` first, then id.
pub type ConferenceKey = (NaiveDate, Uuid);

/// The condition [`visible_to`] returns, for a query whose FROM clause is `QS`.
pub(crate) type Visibility<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;
/// `conferences.status <> 'draft'`.
type PublicConference = dsl::NotEq<conferences::status, ConferenceStatus>;
/// The ids of the conferences one organiser organises.
type Organised = dsl::Select<
    dsl::Filter<conference_organisers::table, dsl::Eq<conference_organisers::organiser_id, Uuid>>,
    conference_organisers::conference_id,
>;
/// Public, or organised by the caller.
type PublicOrOrganised = dsl::Or<PublicConference, dsl::EqAny<conferences::id, Organised>>;

/// A condition on `conferences` (in any FROM clause that holds it) for the conferences
/// `caller` may see: anonymous callers see published and cancelled ones, organisers also the
/// drafts they organise; `None` for an admin, who sees everything. The one statement of that
/// rule for every list and history.
pub(crate) fn visible_to<QS>(caller: Option<Caller>) -> Option<Visibility<QS>>
where
    PublicConference: BoxableExpression<QS, Pg, SqlType = Bool>,
    PublicOrOrganised: BoxableExpression<QS, Pg, SqlType = Bool>,
{
    match caller {
        Some(c) if c.is_admin => None,
        Some(c) => {
            let mine = conference_organisers::table
                .filter(conference_organisers::organiser_id.eq(c.id))
                .select(conference_organisers::conference_id);
            Some(Box::new(
                conferences::status
                    .ne(ConferenceStatus::Draft)
                    .or(conferences::id.eq_any(mine)),
            ))
        }
        None => Some(Box::new(conferences::status.ne(ConferenceStatus::Draft))),
    }
}

/// One condition of the conference list, for a query whose FROM clause is `QS`.
pub(crate) type Condition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// The one list filter: the conditions `filter` and `caller`'s visibility put on
/// `conferences`, in any FROM clause that holds it (the plain list, the ranked search, and the
/// list that starts from one country's delegations): visibility, `q` (full-text,
/// [`search::matches`]), venue country, dates overlapping `from..=to`, status. The participant
/// filters depend on the shape of the query and are added by it.
pub(crate) fn conditions<QS>(
    filter: &ConferenceFilter,
    caller: Option<Caller>,
) -> Vec<Condition<QS>>
where
    PublicConference: BoxableExpression<QS, Pg, SqlType = Bool>,
    PublicOrOrganised: BoxableExpression<QS, Pg, SqlType = Bool>,
    Fragment<Bool>: BoxableExpression<QS, Pg, SqlType = Bool>,
    dsl::Eq<conferences::venue_country, String>: BoxableExpression<QS, Pg, SqlType = Bool>,
    dsl::GtEq<conferences::end_date, NaiveDate>: BoxableExpression<QS, Pg, SqlType = Bool>,
    dsl::LtEq<conferences::start_date, NaiveDate>: BoxableExpression<QS, Pg, SqlType = Bool>,
    dsl::Eq<conferences::status, ConferenceStatus>: BoxableExpression<QS, Pg, SqlType = Bool>,
{
    let mut out: Vec<Condition<QS>> = Vec::new();
    out.extend(visible_to(caller));
    if let Some(q) = &filter.q {
        out.push(Box::new(search::matches(q)));
    }
    if let Some(country) = &filter.country {
        out.push(Box::new(conferences::venue_country.eq(country.clone())));
    }
    if let Some(from) = filter.from {
        out.push(Box::new(conferences::end_date.ge(from)));
    }
    if let Some(to) = filter.to {
        out.push(Box::new(conferences::start_date.le(to)));
    }
    if let Some(status) = filter.status {
        out.push(Box::new(conferences::status.eq(status)));
    }
    out
}

/// The conferences visible to `caller` that match `filter`, in no particular order, from
/// `conferences` alone (the plain list and the ranked [`search::ranked`]): [`conditions`]
/// plus the participant filters as subqueries.
pub(crate) fn filtered(
    filter: &ConferenceFilter,
    caller: Option<Caller>,
) -> conferences::BoxedQuery<'static, Pg> {
    let mut query = conferences::table.into_boxed();
    for condition in conditions(filter, caller) {
        query = query.filter(condition);
    }
    if let Some(country) = &filter.participant_country {
        let ids = delegations::table
            .filter(delegations::country.eq(country.clone()))
            .select(delegations::conference_id);
        query = query.filter(conferences::id.eq_any(ids));
    }
    if let Some(org) = filter.participant_organisation {
        let ids = delegations::table
            .filter(delegations::organisation_id.eq(org))
            .select(delegations::conference_id);
        query = query.filter(conferences::id.eq_any(ids));
    }
    query
}

/// Conferences visible to `caller`, newest first. Anonymous callers see published and
/// cancelled ones; organisers also see drafts they organise; admins see everything.
///
/// With `participant=<country>` the query starts from that country's delegations, ordered by
/// their copy of the conference's start date (`delegations.conference_start_date`): the
/// country's history index then yields the page in order, whatever the number of
/// conferences (benches/RESULTS.md, scenario B). At most one delegation per conference and
/// country, so each conference appears once.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ConferenceFilter,
    caller: Option<Caller>,
    page: &PageRequest<ConferenceKey>,
) -> QueryResult<Page<Conference>> {
    let rows: Vec<ConferenceRow> = if let Some(country) = &filter.participant_country {
        let mut query = delegations::table
            .inner_join(conferences::table)
            .filter(delegations::country.eq(country.clone()))
            .select(ConferenceRow::as_select())
            .order((
                delegations::conference_start_date.desc(),
                delegations::conference_id.desc(),
            ))
            .limit(page.limit + 1)
            .into_boxed();
        for condition in conditions(filter, caller) {
            query = query.filter(condition);
        }
        if let Some(org) = filter.participant_organisation {
            // `delegations` is already in the FROM clause: the subquery needs an alias.
            let other = diesel::alias!(delegations as organisation_delegations);
            let ids = other
                .filter(other.field(delegations::organisation_id).eq(org))
                .select(other.field(delegations::conference_id));
            query = query.filter(conferences::id.eq_any(ids));
        }
        if let Some((date, id)) = page.after {
            let (start, conference) = (
                delegations::conference_start_date,
                delegations::conference_id,
            );
            query = query.filter(start.lt(date).or(start.eq(date).and(conference.lt(id))));
        }
        query.load(conn).await?
    } else {
        let mut query = filtered(filter, caller)
            .select(ConferenceRow::as_select())
            .order((conferences::start_date.desc(), conferences::id.desc()))
            .limit(page.limit + 1);
        if let Some((date, id)) = page.after {
            let (start, conference) = (conferences::start_date, conferences::id);
            query = query.filter(start.lt(date).or(start.eq(date).and(conference.lt(id))));
        }
        query.load(conn).await?
    };
    Ok(paginate(
        rows,
        page.limit,
        |r| (r.start_date, r.id),
        Conference::from,
    ))
}
