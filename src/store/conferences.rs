//! Conferences, their organisers, and who may read or change them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use diesel_async::AsyncConnection;

use super::audit::{self, Action};
use super::{new_id, paginate, Caller, Page, PageRequest, TxError};
use crate::conditional::IfMatch;
use crate::db::schema::{conference_organisers, conferences, delegations, organisers, sessions};
use crate::domain::conference::{Conference, ConferenceChanges, Venue};
use crate::domain::input::Errors;
use crate::domain::session::local_date;
use crate::error::ApiError;

/// A conference row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = conferences, treat_none_as_null = true)]
pub struct ConferenceRow {
    /// UUID v7.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Theme.
    pub theme: Option<String>,
    /// Status.
    pub status: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// IANA zone.
    pub time_zone: String,
    /// Venue name.
    pub venue_name: Option<String>,
    /// Venue city.
    pub venue_city: String,
    /// Venue region.
    pub venue_region: Option<String>,
    /// Venue alpha-2.
    pub venue_country: String,
    /// Host alpha-2.
    pub host_country: Option<String>,
    /// Host organisation.
    pub host_organisation_id: Option<Uuid>,
    /// Source URL.
    pub source_url: Option<String>,
    /// Participants list public.
    pub participants_public: bool,
    /// Creator (null for imported conferences).
    pub created_by: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl From<ConferenceRow> for Conference {
    fn from(r: ConferenceRow) -> Self {
        Conference {
            id: r.id,
            title: r.title,
            theme: r.theme,
            status: r.status,
            start_date: r.start_date,
            end_date: r.end_date,
            time_zone: r.time_zone,
            venue: Venue {
                name: r.venue_name,
                city: r.venue_city,
                region: r.venue_region,
                country: r.venue_country,
            },
            host_country: r.host_country,
            host_organisation_id: r.host_organisation_id,
            source_url: r.source_url,
            participants_public: r.participants_public,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl ConferenceRow {
    /// A new row from a validated `POST` (every required field is present).
    pub fn new(c: ConferenceChanges, created_by: Option<Uuid>) -> Self {
        let now = Utc::now();
        let venue = c.venue.unwrap_or(Venue {
            name: None,
            city: String::new(),
            region: None,
            country: String::new(),
        });
        let mut row = Self {
            id: new_id(),
            title: String::new(),
            theme: None,
            status: "draft".to_string(),
            start_date: c.start_date.unwrap_or_default(),
            end_date: c.end_date.unwrap_or_default(),
            time_zone: "UTC".to_string(),
            venue_name: venue.name.clone(),
            venue_city: venue.city.clone(),
            venue_region: venue.region.clone(),
            venue_country: venue.country.clone(),
            host_country: None,
            host_organisation_id: None,
            source_url: None,
            participants_public: false,
            created_by,
            created_at: now,
            updated_at: now,
        };
        row.apply(ConferenceChanges { venue: None, ..c });
        row
    }

    /// Applies validated changes.
    pub fn apply(&mut self, c: ConferenceChanges) {
        if let Some(v) = c.title {
            self.title = v;
        }
        if let Some(v) = c.theme {
            self.theme = v;
        }
        if let Some(v) = c.status {
            self.status = v.to_string();
        }
        if let Some(v) = c.start_date {
            self.start_date = v;
        }
        if let Some(v) = c.end_date {
            self.end_date = v;
        }
        if let Some(v) = c.time_zone {
            self.time_zone = v.name().to_string();
        }
        if let Some(v) = c.venue {
            self.venue_name = v.name;
            self.venue_city = v.city;
            self.venue_region = v.region;
            self.venue_country = v.country;
        }
        if let Some(v) = c.host_country {
            self.host_country = v;
        }
        if let Some(v) = c.host_organisation_id {
            self.host_organisation_id = v;
        }
        if let Some(v) = c.source_url {
            self.source_url = v;
        }
        if let Some(v) = c.participants_public {
            self.participants_public = v;
        }
        self.updated_at = Utc::now();
    }

    /// The conference's IANA zone (validated on the way in; UTC if the stored name is unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// What a caller needs to do with a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read it (drafts: organisers and admins only).
    Read,
    /// Change it or what hangs under it (owners, editors, admins).
    Write,
    /// Manage its organisers (owners, admins).
    Own,
}

/// A conference the caller may access, with the caller's role on it.
#[derive(Debug, Clone)]
pub struct Access {
    /// The conference.
    pub conference: ConferenceRow,
    /// `owner`/`editor` if the caller organises it.
    pub role: Option<String>,
    /// Whether the caller may change it (owner, editor or admin).
    pub can_write: bool,
}

/// Loads a conference and checks that `caller` may do `need` with it.
///
/// Errors: 404 when it does not exist or is a draft the caller does not organise (drafts do
/// not leak their existence); 401 for a write without a caller; 403 when the caller may read
/// but not change it.
pub async fn access(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    caller: Option<Caller>,
    need: Need,
) -> Result<Access, ApiError> {
    let not_found = || ApiError::NotFound("no such conference".to_string());
    // One round trip for the conference and the caller's role on it (a nil id for anonymous
    // callers matches no organiser): this runs before every read and write under a conference.
    let caller_id = caller.map_or(Uuid::nil(), |c| c.id);
    let (conference, role): (ConferenceRow, Option<String>) = conferences::table
        .left_join(
            conference_organisers::table.on(conference_organisers::conference_id
                .eq(conferences::id)
                .and(conference_organisers::organiser_id.eq(caller_id))),
        )
        .filter(conferences::id.eq(id))
        .select((
            ConferenceRow::as_select(),
            conference_organisers::role.nullable(),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(not_found)?;
    let is_admin = caller.is_some_and(|c| c.is_admin);
    if conference.status == "draft" && role.is_none() && !is_admin {
        return Err(not_found());
    }
    let can_write = is_admin || role.is_some();
    match need {
        Need::Read => {}
        Need::Write | Need::Own if caller.is_none() => {
            return Err(ApiError::Unauthorized(
                "a bearer token is required".to_string(),
            ))
        }
        Need::Write if !can_write => {
            return Err(ApiError::Forbidden(
                "only the conference's owners and editors may change it".to_string(),
            ))
        }
        Need::Own if !(is_admin || role.as_deref() == Some("owner")) => {
            return Err(ApiError::Forbidden(
                "only the conference's owners may add organisers".to_string(),
            ))
        }
        _ => {}
    }
    Ok(Access {
        conference,
        role,
        can_write,
    })
}

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
    pub status: Option<&'static str>,
}

/// The keyset of the conference list: newest `start_date` first, then id.
pub type ConferenceKey = (NaiveDate, Uuid);

/// The condition [`visible_to`] returns, for a query whose FROM clause is `QS`.
pub(crate) type Visibility<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;
/// `conferences.status <> 'draft'`.
type PublicConference = dsl::NotEq<conferences::status, &'static str>;
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
                    .ne("draft")
                    .or(conferences::id.eq_any(mine)),
            ))
        }
        None => Some(Box::new(conferences::status.ne("draft"))),
    }
}

/// The conferences visible to `caller` that match `filter`, in no particular order (shared by
/// the date-ordered [`list`] and the ranked [`super::search::ranked`]). Anonymous callers see
/// published and cancelled ones; organisers also see drafts they organise; admins see
/// everything. `q` is a full-text match ([`super::search::matches`]).
pub(crate) fn filtered(
    filter: &ConferenceFilter,
    caller: Option<Caller>,
) -> conferences::BoxedQuery<'static, Pg> {
    let mut query = conferences::table.into_boxed();
    if let Some(visible) = visible_to(caller) {
        query = query.filter(visible);
    }
    if let Some(q) = &filter.q {
        query = query.filter(super::search::matches(q));
    }
    if let Some(country) = &filter.country {
        query = query.filter(conferences::venue_country.eq(country.clone()));
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
    if let Some(from) = filter.from {
        query = query.filter(conferences::end_date.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(conferences::start_date.le(to));
    }
    if let Some(status) = filter.status {
        query = query.filter(conferences::status.eq(status));
    }
    query
}

/// Adds the filters shared by both shapes of the conference list (visibility, `q`, venue
/// country, organisation participant, dates, status, keyset) to the boxed query `$query`,
/// whose FROM clause holds `conferences`; `$start` and `$id` are the columns it is ordered by.
macro_rules! filter_conferences {
    ($query:ident, $filter:expr, $caller:expr, $page:expr, $start:expr, $id:expr) => {{
        let filter: &ConferenceFilter = $filter;
        if let Some(visible) = visible_to($caller) {
            $query = $query.filter(visible);
        }
        if let Some(q) = &filter.q {
            $query = $query.filter(super::search::matches(q));
        }
        if let Some(country) = &filter.country {
            $query = $query.filter(conferences::venue_country.eq(country.clone()));
        }
        if let Some(from) = filter.from {
            $query = $query.filter(conferences::end_date.ge(from));
        }
        if let Some(to) = filter.to {
            $query = $query.filter($start.le(to));
        }
        if let Some(status) = filter.status {
            $query = $query.filter(conferences::status.eq(status));
        }
        if let Some((date, id)) = $page.after {
            $query = $query.filter($start.lt(date).or($start.eq(date).and($id.lt(id))));
        }
    }};
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
    let organisation_filter = |org: Uuid| {
        delegations::table
            .filter(delegations::organisation_id.eq(org))
            .select(delegations::conference_id)
    };
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
        if let Some(org) = filter.participant_organisation {
            // `delegations` is already in the FROM clause: the subquery needs an alias.
            let other = diesel::alias!(delegations as organisation_delegations);
            let ids = other
                .filter(other.field(delegations::organisation_id).eq(org))
                .select(other.field(delegations::conference_id));
            query = query.filter(conferences::id.eq_any(ids));
        }
        filter_conferences!(
            query,
            filter,
            caller,
            page,
            delegations::conference_start_date,
            delegations::conference_id
        );
        query.load(conn).await?
    } else {
        let mut query = conferences::table
            .select(ConferenceRow::as_select())
            .order((conferences::start_date.desc(), conferences::id.desc()))
            .limit(page.limit + 1)
            .into_boxed();
        if let Some(org) = filter.participant_organisation {
            query = query.filter(conferences::id.eq_any(organisation_filter(org)));
        }
        filter_conferences!(
            query,
            filter,
            caller,
            page,
            conferences::start_date,
            conferences::id
        );
        query.load(conn).await?
    };
    Ok(paginate(
        rows,
        page.limit,
        |r| (r.start_date, r.id),
        Conference::from,
    ))
}

/// Checks what the columns cannot: the host organisation exists, and existing sessions still
/// lie within the (possibly changed) dates in the (possibly changed) zone. Errors: 422.
async fn check_references(
    conn: &mut AsyncPgConnection,
    row: &ConferenceRow,
    check_sessions: bool,
) -> Result<(), ApiError> {
    let mut errors = Errors::new();
    if let Some(org) = row.host_organisation_id {
        if !super::organisations::missing(conn, &[org])
            .await?
            .is_empty()
        {
            errors.push("host_organisation_id", "no organisation has this id");
        }
    }
    if check_sessions {
        let tz = row.tz();
        let times: Vec<(DateTime<Utc>, DateTime<Utc>)> = sessions::table
            .filter(sessions::conference_id.eq(row.id))
            .select((sessions::starts_at, sessions::ends_at))
            .load(conn)
            .await?;
        let outside = times.iter().any(|(s, e)| {
            let (s, e) = (local_date(*s, tz), local_date(*e, tz));
            s < row.start_date || e > row.end_date
        });
        if outside {
            errors.push(
                "start_date",
                "existing sessions would fall outside the conference dates",
            );
        }
    }
    errors.check()
}

/// Creates a conference and makes `owner` (if any) its owner, in one transaction, recorded in
/// the audit log when an organiser (`caller`) writes it.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    row: ConferenceRow,
    owner: Option<Uuid>,
) -> Result<ConferenceRow, ApiError> {
    crate::retry_tx!({
        let row = row.clone();
        conn.transaction::<_, TxError, _>(async move |conn| {
            check_references(conn, &row, false).await?;
            let saved: ConferenceRow = diesel::insert_into(conferences::table)
                .values(&row)
                .returning(ConferenceRow::as_returning())
                .get_result(conn)
                .await?;
            if let Some(owner) = owner {
                diesel::insert_into(conference_organisers::table)
                    .values((
                        conference_organisers::conference_id.eq(saved.id),
                        conference_organisers::organiser_id.eq(owner),
                        conference_organisers::role.eq("owner"),
                    ))
                    .execute(conn)
                    .await?;
            }
            if let Some(caller) = caller {
                let after = Conference::from(saved.clone());
                audit::record(
                    conn,
                    caller,
                    Some(saved.id),
                    Action::Create,
                    "conference",
                    saved.id,
                    None::<&()>,
                    Some(&after),
                )
                .await?;
            }
            Ok(saved)
        })
        .await
    })
}

/// Applies a validated `PATCH` to a conference if `if_match` holds, re-checking references and
/// sessions. Errors: 404, 412, 422.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    changes: ConferenceChanges,
) -> Result<ConferenceRow, ApiError> {
    crate::retry_tx!({
        let changes = changes.clone();
        conn.transaction::<_, TxError, _>(async move |conn| {
            let mut row: ConferenceRow = conferences::table
                .find(id)
                .for_update()
                .select(ConferenceRow::as_select())
                .first(conn)
                .await?;
            let before = Conference::from(row.clone());
            if_match.check(&before)?;
            let timing_changed = changes.start_date.is_some()
                || changes.end_date.is_some()
                || changes.time_zone.is_some();
            row.apply(changes);
            if row.end_date < row.start_date {
                return Err(ApiError::field("end_date", "must not be before start_date").into());
            }
            check_references(conn, &row, timing_changed).await?;
            let saved: ConferenceRow = diesel::update(conferences::table.find(id))
                .set(&row)
                .returning(ConferenceRow::as_returning())
                .get_result(conn)
                .await?;
            let after = Conference::from(saved.clone());
            audit::record(
                conn,
                caller,
                Some(id),
                Action::Update,
                "conference",
                id,
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok(saved)
        })
        .await
    })
}

/// Deletes a conference if `if_match` holds. Errors: 412; 409 when it has delegations and
/// `cascade` is false.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    id: Uuid,
    if_match: &IfMatch,
    cascade: bool,
) -> Result<(), ApiError> {
    crate::retry_tx!(
        conn.transaction::<_, TxError, _>(async move |conn| {
            let row: ConferenceRow = conferences::table
                .find(id)
                .for_update()
                .select(ConferenceRow::as_select())
                .first(conn)
                .await?;
            let before = Conference::from(row);
            if_match.check(&before)?;
            let has_delegations: bool = diesel::select(diesel::dsl::exists(
                delegations::table.filter(delegations::conference_id.eq(id)),
            ))
            .get_result(conn)
            .await?;
            if has_delegations && !cascade {
                return Err(ApiError::Conflict(
                    "the conference has delegations; delete with ?cascade=true".to_string(),
                )
                .into());
            }
            diesel::delete(conferences::table.find(id))
                .execute(conn)
                .await?;
            audit::record(
                conn,
                caller,
                Some(id),
                Action::Delete,
                "conference",
                id,
                Some(&before),
                None::<&()>,
            )
            .await?;
            Ok(())
        })
        .await
    )
}

/// An organiser of a conference as returned by `POST .../organisers`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConferenceOrganiser {
    /// The organiser.
    pub organiser_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// `owner` or `editor`.
    pub role: String,
}

/// Adds the organiser with `email` to a conference (audited). Errors: 422 when no organiser
/// has that email, 409 when they already organise it.
pub async fn add_organiser(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    email: &str,
    role: &str,
) -> Result<ConferenceOrganiser, ApiError> {
    let organiser = super::organisers::find_by_email(conn, email)
        .await?
        .ok_or_else(|| ApiError::field("email", "no organiser has this email"))?;
    let added = ConferenceOrganiser {
        organiser_id: organiser.id,
        email: organiser.email,
        name: organiser.name,
        role: role.to_string(),
    };
    crate::retry_tx!({
        let added = added.clone();
        conn.transaction::<_, TxError, _>(async move |conn| {
            diesel::insert_into(conference_organisers::table)
                .values((
                    conference_organisers::conference_id.eq(conference_id),
                    conference_organisers::organiser_id.eq(added.organiser_id),
                    conference_organisers::role.eq(&added.role),
                ))
                .execute(conn)
                .await?;
            audit::record(
                conn,
                caller,
                Some(conference_id),
                Action::Create,
                "conference_organiser",
                added.organiser_id,
                None::<&()>,
                Some(&added),
            )
            .await?;
            Ok(added)
        })
        .await
    })
}

/// The organisers of a conference, owners first.
pub async fn organisers_of(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> QueryResult<Vec<ConferenceOrganiser>> {
    let rows: Vec<(Uuid, String, String, String)> = conference_organisers::table
        .inner_join(organisers::table)
        .filter(conference_organisers::conference_id.eq(conference_id))
        .order((conference_organisers::role.desc(), organisers::email.asc()))
        .select((
            organisers::id,
            organisers::email,
            organisers::name,
            conference_organisers::role,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(organiser_id, email, name, role)| ConferenceOrganiser {
            organiser_id,
            email,
            name,
            role,
        })
        .collect())
}
