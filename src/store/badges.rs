//! Badges and check-in (API.md, "Badges, check-in and presence"): each conference's Ed25519
//! key (made the first time it is needed, kept in `badge_keys`), the badge of each accepted
//! member of a delegation that counts (`badges`), and the scans recorded at the doors
//! (`check_ins`).
//!
//! Whether a member may hold a valid badge is [`ACCREDITED`], the one statement of the rule:
//! badges are issued only while it holds, a scan is accepted only while it holds, and the
//! database revokes a badge in the transaction of the write that breaks it (a member no longer
//! accepted or deleted, a delegation that stops counting or is deleted: triggers of migration
//! `2026-12-07-000003_badges`). Whether a scanned token is valid is [`judge`].

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::audit::{Audited, ResourceKind};
use super::delegations::DelegationRow;
use super::participants::{self, Participant};
use super::write::{self, Input, Scope, Tx, UNCONDITIONAL};
use super::{new_id, paginate, standing, Caller, Page, PageRequest, StoreError};
use crate::access::{Audience, Need};
use crate::db::schema::delegations;
use crate::domain::badge::{kid_of, BadgeKey, Claims, Jwk, Scan};
use crate::domain::country::CountryIndex;
use crate::domain::vocab::{
    BadgeCategory, BadgeStatus, DelegationRole, DelegationStatus, ScanDirection, ScanResult,
};

/// The rule, as SQL over a member `m` and its delegation `d`: an accepted member of a
/// delegation that counts (`registered`, `confirmed`, `attended`) has a badge.
pub const ACCREDITED: &str = "(m.nomination_status = 'accepted' \
     AND d.status IN ('registered', 'confirmed', 'attended'))";

/// A member's badge as organisers, its focal points and check-in staff read it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Badge {
    /// The member.
    pub member_id: Uuid,
    /// The category shown: the organiser's, else the delegation's section's.
    pub category: BadgeCategory,
    /// 1, then + 1 at each reissue (and when a revoked badge is issued again).
    pub version: i32,
    /// `issued`, `collected` (scanned once) or `revoked`.
    pub status: BadgeStatus,
    /// What the QR code holds: a JWS (RFC 7515) signed with the conference's key.
    pub token: String,
    /// When this version was issued (RFC 3339).
    pub issued_at: DateTime<Utc>,
    /// When the badge was first scanned, null before.
    pub collected_at: Option<DateTime<Utc>>,
}

/// `GET .../badges/revoked`: every revoked `(member, version)` of the conference.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Revoked {
    /// By member, then version.
    pub items: Vec<RevokedBadge>,
}

/// One revoked version of a badge.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, QueryableByName)]
pub struct RevokedBadge {
    /// The member.
    #[diesel(sql_type = SqlUuid)]
    pub member_id: Uuid,
    /// The version no longer valid.
    #[diesel(sql_type = Int4)]
    pub version: i32,
}

/// What one scan came to, in the order sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScanOutcome {
    /// The scan's nonce.
    pub nonce: String,
    /// `accepted`, `repeat`, `revoked`, `invalid`, `other_conference` or `not_accredited`.
    pub result: ScanResult,
    /// The member the token names (null for `invalid` and `other_conference`).
    pub member_id: Option<Uuid>,
    /// The member's delegation (null when unknown).
    pub delegation_id: Option<Uuid>,
}

/// `POST .../check-ins`: one outcome per scan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcomes {
    /// In the order sent.
    pub items: Vec<ScanOutcome>,
}

/// A recorded (accepted) scan, as `GET .../check-ins` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, QueryableByName)]
pub struct CheckIn {
    /// UUID v7, in the order recorded.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// The scanner's nonce.
    #[diesel(sql_type = Text)]
    pub nonce: String,
    /// The member scanned.
    #[diesel(sql_type = SqlUuid)]
    pub member_id: Uuid,
    /// The member's delegation.
    #[diesel(sql_type = SqlUuid)]
    pub delegation_id: Uuid,
    /// The session; null for the venue's door.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub session_id: Option<Uuid>,
    /// `in` or `out`.
    #[diesel(sql_type = Text)]
    pub direction: ScanDirection,
    /// The badge's version scanned.
    #[diesel(sql_type = Int4)]
    pub version: i32,
    /// When the scanner read it.
    #[diesel(sql_type = Timestamptz)]
    pub scanned_at: DateTime<Utc>,
    /// When the server recorded it.
    #[diesel(sql_type = Timestamptz)]
    pub recorded_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Bytea)]
    secret: Vec<u8>,
}

#[derive(QueryableByName, Clone)]
struct MemberRow {
    #[diesel(sql_type = SqlUuid)]
    member_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    delegation_id: Uuid,
    #[diesel(sql_type = Bool)]
    accredited: bool,
    #[diesel(sql_type = Bool)]
    is_state: bool,
    #[diesel(sql_type = Text)]
    role: DelegationRole,
}

/// A stored badge: what the audit log compares and logs (never the token, which is derived).
#[derive(QueryableByName, Clone, Serialize, PartialEq)]
struct BadgeRow {
    #[diesel(sql_type = SqlUuid)]
    member_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    category: Option<BadgeCategory>,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Text)]
    status: BadgeStatus,
    #[diesel(sql_type = Timestamptz)]
    issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    collected_at: Option<DateTime<Utc>>,
}

impl Audited for BadgeRow {
    const KIND: ResourceKind = ResourceKind::Badge;
    type Repr = BadgeRow;
    fn id(&self) -> Uuid {
        self.member_id
    }
    fn repr(&self) -> BadgeRow {
        self.clone()
    }
}

const BADGE_COLUMNS: &str = "member_id, category, version, status, issued_at, collected_at";

/// What issuing a badge does to a member's existing row: nothing to a valid badge; the next
/// version, `issued`, for a revoked one (the member is accredited again).
const ISSUE_AGAIN: &str = "ON CONFLICT (member_id) DO UPDATE SET version = badges.version + 1, \
     status = 'issued', issued_at = now(), collected_at = NULL, \
     delegation_id = EXCLUDED.delegation_id WHERE badges.status = 'revoked'";

/// Keys already read, by conference: a conference's key never changes once stored (a deleted
/// conference's id is never reused), so every instance may keep it. At most 10 000 conferences'.
static KEYS: std::sync::LazyLock<moka::sync::Cache<Uuid, BadgeKey>> =
    std::sync::LazyLock::new(|| moka::sync::Cache::new(10_000));

/// The conference's key ([`KEYS`], else the database), made (and stored) the first time it is
/// asked for; two requests at once keep the first one stored.
async fn key(conn: &mut AsyncPgConnection, conference_id: Uuid) -> Result<BadgeKey, StoreError> {
    if let Some(known) = KEYS.get(&conference_id) {
        return Ok(known);
    }
    let found = stored_key(conn, conference_id).await?;
    KEYS.insert(conference_id, found.clone());
    Ok(found)
}

async fn stored_key(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> Result<BadgeKey, StoreError> {
    let stored = |rows: Vec<KeyRow>| -> Result<Option<BadgeKey>, StoreError> {
        match rows.into_iter().next() {
            Some(row) => BadgeKey::from_stored(&row.secret).map(Some).ok_or_else(|| {
                StoreError::Conflict("the conference's badge key is damaged".into())
            }),
            None => Ok(None),
        }
    };
    let select = "SELECT secret FROM badge_keys WHERE conference_id = $1";
    let rows: Vec<KeyRow> = diesel::sql_query(select)
        .bind::<SqlUuid, _>(conference_id)
        .load(conn)
        .await?;
    if let Some(key) = stored(rows)? {
        return Ok(key);
    }
    let new = BadgeKey::generate();
    diesel::sql_query(
        "INSERT INTO badge_keys (conference_id, kid, secret, public_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (conference_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(conference_id)
    .bind::<Text, _>(&new.kid)
    .bind::<Bytea, _>(new.secret().as_slice())
    .bind::<Bytea, _>(new.public.as_slice())
    .execute(conn)
    .await?;
    let rows: Vec<KeyRow> = diesel::sql_query(select)
        .bind::<SqlUuid, _>(conference_id)
        .load(conn)
        .await?;
    stored(rows)?.ok_or_else(|| StoreError::not_found("no such conference"))
}

/// `GET .../badges/key`: the conference's public key as a JWK (anyone who may read the
/// conference). Errors: the access refusal.
pub async fn public_key(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
) -> Result<Jwk, StoreError> {
    standing::conference(conn, caller, conference_id, Need::ReadConference).await?;
    Ok(key(conn, conference_id).await?.jwk())
}

/// The members `ids` of conference `conference_id` (those that exist), with [`ACCREDITED`].
async fn members(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<MemberRow>, StoreError> {
    let sql = format!(
        "SELECT m.id AS member_id, m.delegation_id, {ACCREDITED} AS accredited, \
         (d.country IS NOT NULL) AS is_state, d.role \
         FROM delegation_members m JOIN delegations d ON d.id = m.delegation_id \
         WHERE d.conference_id = $1 AND m.id = ANY($2)"
    );
    Ok(diesel::sql_query(sql)
        .bind::<SqlUuid, _>(conference_id)
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await?)
}

/// Member `member_id` of delegation `delegation_id`. Errors: 404.
async fn member(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    delegation_id: Uuid,
    member_id: Uuid,
) -> Result<MemberRow, StoreError> {
    members(conn, conference_id, &[member_id])
        .await?
        .into_iter()
        .find(|m| m.delegation_id == delegation_id)
        .ok_or_else(|| StoreError::not_found("no such member in this delegation"))
}

async fn stored_badge(
    conn: &mut AsyncPgConnection,
    member_id: Uuid,
) -> Result<Option<BadgeRow>, StoreError> {
    let rows: Vec<BadgeRow> = diesel::sql_query(format!(
        "SELECT {BADGE_COLUMNS} FROM badges WHERE member_id = $1"
    ))
    .bind::<SqlUuid, _>(member_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// The badge of an accredited member: issued (version 1) if it has none, issued again (the
/// next version) if it was revoked while the member was not accredited.
async fn issue(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    m: &MemberRow,
) -> Result<BadgeRow, StoreError> {
    let rows: Vec<BadgeRow> = diesel::sql_query(format!(
        "INSERT INTO badges (member_id, conference_id, delegation_id) VALUES ($1, $2, $3) \
         {ISSUE_AGAIN} RETURNING {BADGE_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(m.member_id)
    .bind::<SqlUuid, _>(conference_id)
    .bind::<SqlUuid, _>(m.delegation_id)
    .load(conn)
    .await?;
    match rows.into_iter().next() {
        Some(row) => Ok(row),
        None => stored_badge(conn, m.member_id)
            .await?
            .ok_or_else(|| StoreError::not_found("no badge for this member")),
    }
}

/// The badge of member `m`: issued when it is accredited, else the revoked one it had.
/// Errors: 404 when it is not accredited and never had one.
async fn badge_of(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    m: &MemberRow,
) -> Result<BadgeRow, StoreError> {
    if m.accredited {
        issue(conn, conference_id, m).await
    } else {
        stored_badge(conn, m.member_id).await?.ok_or_else(|| {
            StoreError::not_found(
                "this member has no badge: only accepted members of a delegation that counts have one",
            )
        })
    }
}

/// The badge an organiser's `UPDATE ... RETURNING` of one member's badge gave (`rows`),
/// logged as a change from `before`, and signed. Errors: 404 when the member has no badge row.
async fn rendered(
    tx: &mut Tx<'_>,
    conference_id: Uuid,
    m: &MemberRow,
    before: &BadgeRow,
    rows: Vec<BadgeRow>,
) -> Result<Badge, StoreError> {
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::not_found("no badge for this member"))?;
    tx.updated(before, &row);
    let key = key(tx.conn, conference_id).await?;
    render(&key, conference_id, m, row)
}

fn render(
    key: &BadgeKey,
    conference_id: Uuid,
    m: &MemberRow,
    row: BadgeRow,
) -> Result<Badge, StoreError> {
    let category = row
        .category
        .unwrap_or_else(|| BadgeCategory::of(m.is_state, m.role));
    let token = key
        .sign(&Claims {
            iss: conference_id,
            sub: row.member_id,
            ver: row.version,
            cat: category.as_str().to_string(),
        })
        .map_err(|_| StoreError::Conflict("the badge could not be signed".into()))?;
    Ok(Badge {
        member_id: row.member_id,
        category,
        version: row.version,
        status: row.status,
        token,
        issued_at: row.issued_at,
        collected_at: row.collected_at,
    })
}

/// `GET .../members/{mid}/badge` (organisers, the delegation's focal points, check-in staff):
/// the badge, issued the first time it is read. Errors: the access refusal, 404 (no such
/// member, or one that is not accredited and never had a badge).
pub async fn get(
    conn: &mut AsyncPgConnection,
    caller: Option<Caller>,
    conference_id: Uuid,
    delegation_id: Uuid,
    member_id: Uuid,
) -> Result<Badge, StoreError> {
    standing::conference(conn, caller, conference_id, Need::ReadBadge(delegation_id)).await?;
    let key = key(conn, conference_id).await?;
    let m = member(conn, conference_id, delegation_id, member_id).await?;
    let row = badge_of(conn, conference_id, &m).await?;
    render(&key, conference_id, &m, row)
}

/// One badge of [`Sheet`]: the member as the list of participants shows it, its delegation
/// and its badge.
#[derive(Debug, Clone)]
pub struct Printed {
    /// The delegation's name (UN English short name, or the organisation's) and acronym.
    pub delegation: (String, Option<String>),
    /// The member.
    pub member: Participant,
    /// The badge, signed.
    pub badge: Badge,
}

/// `GET .../badges.html`: the conference and the badges of its accredited members, in the order
/// of the list of participants (sections, protocol order, head first).
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The conference's title.
    pub title: String,
    /// Its first and last days.
    pub dates: (NaiveDate, NaiveDate),
    /// One per accredited member (of the delegation asked for, or all).
    pub badges: Vec<Printed>,
}

/// The badges of every accredited member of conference `conference_id`, or of delegation
/// `delegation` only, each issued where it was missing (one statement for all, as the first
/// read of a badge does for one). Organisers only ([`Need::Write`]: check-in staff and focal
/// points are refused). Errors: the access refusal, 404 when `delegation` is not one of the
/// conference's.
pub async fn sheet(
    conn: &mut AsyncPgConnection,
    countries: &CountryIndex,
    caller: Caller,
    conference_id: Uuid,
    delegation: Option<Uuid>,
) -> Result<Sheet, StoreError> {
    let access = standing::conference(conn, Some(caller), conference_id, Need::Write).await?;
    if let Some(d) = delegation {
        let found: i64 = delegations::table
            .filter(delegations::id.eq(d))
            .filter(delegations::conference_id.eq(conference_id))
            .count()
            .get_result(conn)
            .await?;
        if found == 0 {
            return Err(StoreError::not_found(
                "no such delegation in this conference",
            ));
        }
    }
    let list =
        // Badges never print an email: the list as the public reads it.
        participants::of_conference(conn, countries, access.conference, Audience::Public)
            .await?;
    diesel::sql_query(format!(
        "INSERT INTO badges (member_id, conference_id, delegation_id) \
         SELECT m.id, d.conference_id, d.id FROM delegation_members m \
         JOIN delegations d ON d.id = m.delegation_id \
         WHERE d.conference_id = $1 AND ($2::uuid IS NULL OR d.id = $2) AND {ACCREDITED} \
         {ISSUE_AGAIN}"
    ))
    .bind::<SqlUuid, _>(conference_id)
    .bind::<Nullable<SqlUuid>, _>(delegation)
    .execute(conn)
    .await?;
    let rows: Vec<BadgeRow> = diesel::sql_query(format!(
        "SELECT {BADGE_COLUMNS} FROM badges WHERE conference_id = $1 AND status <> 'revoked'"
    ))
    .bind::<SqlUuid, _>(conference_id)
    .load(conn)
    .await?;
    let mut rows: HashMap<Uuid, BadgeRow> = rows.into_iter().map(|r| (r.member_id, r)).collect();
    let key = key(conn, conference_id).await?;
    let mut badges = Vec::new();
    for d in list.delegations {
        if delegation.is_some_and(|id| id != d.delegation_id) {
            continue;
        }
        for member in d.members {
            // A member accepted after the list was read has no row yet: the next print has it.
            let Some(row) = rows.remove(&member.member_id) else {
                continue;
            };
            let m = MemberRow {
                member_id: member.member_id,
                delegation_id: d.delegation_id,
                accredited: true,
                is_state: d.country.is_some(),
                role: d.role,
            };
            badges.push(Printed {
                delegation: (d.name.clone(), d.acronym.clone()),
                badge: render(&key, conference_id, &m, row)?,
                member,
            });
        }
    }
    let c = list.conference;
    Ok(Sheet {
        title: c.title,
        dates: (c.start_date, c.end_date),
        badges,
    })
}

/// `PATCH .../badge` `{"category"}` (organisers, [`Need::Write`]). Errors, in this order: the
/// access refusal, 404 (member, or no badge), 422 (the body).
pub async fn set_category(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    member_id: Uuid,
    input: Input<BadgeCategory>,
) -> Result<Badge, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        let m = member(tx.conn, conference_id, delegation_id, member_id).await?;
        let category = input.value()?;
        let before = badge_of(tx.conn, conference_id, &m).await?;
        let rows: Vec<BadgeRow> = diesel::sql_query(format!(
            "UPDATE badges SET category = $2 WHERE member_id = $1 RETURNING {BADGE_COLUMNS}"
        ))
        .bind::<SqlUuid, _>(member_id)
        .bind::<Text, _>(category)
        .load(tx.conn)
        .await?;
        rendered(tx, conference_id, &m, &before, rows).await
    })
    .await
}

/// `POST .../badge/reissue` (organisers, [`Need::Write`]): the next version, `issued`; every
/// earlier one is revoked. Errors, in this order: the access refusal, 404, 422 (the body, which
/// must be empty), 409 when the member is not accredited.
pub async fn reissue(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    delegation_id: Uuid,
    member_id: Uuid,
    input: Input<()>,
) -> Result<Badge, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::Write, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        let m = member(tx.conn, conference_id, delegation_id, member_id).await?;
        input.value()?;
        if !m.accredited {
            return Err(StoreError::Conflict(
                "only an accepted member of a delegation that counts has a badge".into(),
            ));
        }
        let before = issue(tx.conn, conference_id, &m).await?;
        let rows: Vec<BadgeRow> = diesel::sql_query(format!(
            "UPDATE badges SET version = version + 1, status = 'issued', issued_at = now(), \
             collected_at = NULL WHERE member_id = $1 RETURNING {BADGE_COLUMNS}"
        ))
        .bind::<SqlUuid, _>(member_id)
        .load(tx.conn)
        .await?;
        rendered(tx, conference_id, &m, &before, rows).await
    })
    .await
}

/// `GET .../badges/revoked` (organisers, check-in staff): every version below a badge's
/// current one, and the current one of a revoked badge. Errors: the access refusal.
pub async fn revoked(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
) -> Result<Revoked, StoreError> {
    standing::conference(conn, Some(caller), conference_id, Need::CheckIn).await?;
    let items: Vec<RevokedBadge> = diesel::sql_query(
        "SELECT b.member_id, v AS version FROM badges b, \
         generate_series(1, CASE WHEN b.status = 'revoked' THEN b.version ELSE b.version - 1 END) AS v \
         WHERE b.conference_id = $1 ORDER BY b.member_id, v",
    )
    .bind::<SqlUuid, _>(conference_id)
    .load(conn)
    .await?;
    Ok(Revoked { items })
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Whether a webhook of conference `conference_id` subscribes to `check_in.recorded` (or to
/// every event).
async fn wants_scans(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
) -> Result<bool, StoreError> {
    let rows: Vec<Exists> = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM webhooks WHERE conference_id = $1 \
         AND ('check_in.recorded' = ANY (events) OR '*' = ANY (events))) AS exists",
    )
    .bind::<SqlUuid, _>(conference_id)
    .load(conn)
    .await?;
    Ok(rows.iter().any(|r| r.exists))
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    kid: String,
    #[diesel(sql_type = SqlUuid)]
    conference_id: Uuid,
    #[diesel(sql_type = Bytea)]
    secret: Vec<u8>,
}

#[derive(QueryableByName)]
struct Standing {
    #[diesel(sql_type = SqlUuid)]
    member_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    delegation_id: Uuid,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Text)]
    status: BadgeStatus,
    #[diesel(sql_type = Bool)]
    accredited: bool,
    /// Its delegation is `registered` or `confirmed`: the first accepted scan moves it to
    /// `attended`.
    #[diesel(sql_type = Bool)]
    to_attend: bool,
}

/// Whether a token of version `ver`, correctly signed by the conference's key, is valid now:
/// `revoked` for an earlier version or a revoked badge, `not_accredited` when its member is not
/// (or no longer exists), `invalid` for a version never issued, else `accepted`.
fn judge(ver: i32, badge: Option<&Standing>) -> ScanResult {
    match badge {
        None => ScanResult::Invalid,
        Some(b) if ver > b.version => ScanResult::Invalid,
        Some(b) if ver < b.version || b.status == BadgeStatus::Revoked => ScanResult::Revoked,
        Some(b) if !b.accredited => ScanResult::NotAccredited,
        Some(_) => ScanResult::Accepted,
    }
}

/// The claims of a token signed by the conference's key `key`; `other_conference` for one
/// signed by another conference's key (`others`, by `kid`), `invalid` for anything else.
fn verify(
    key: &BadgeKey,
    others: &HashMap<String, (Uuid, BadgeKey)>,
    conference_id: Uuid,
    token: &str,
    kid: Option<&str>,
) -> Result<Claims, ScanResult> {
    match kid {
        Some(k) if k == key.kid => key
            .verify(token)
            .ok()
            .filter(|c| c.iss == conference_id)
            .ok_or(ScanResult::Invalid),
        Some(k) => match others.get(k) {
            Some((other, other_key)) if other_key.verify(token).is_ok_and(|c| c.iss == *other) => {
                Err(ScanResult::OtherConference)
            }
            _ => Err(ScanResult::Invalid),
        },
        None => Err(ScanResult::Invalid),
    }
}

#[derive(QueryableByName)]
struct Recorded {
    #[diesel(sql_type = Text)]
    nonce: String,
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    delegation_id: Uuid,
}

/// `POST .../check-ins` (organisers, check-in staff, [`Need::CheckIn`]): judges each scan
/// and records the accepted ones whose nonce is new (`INSERT ... ON CONFLICT DO NOTHING` on
/// the unique `(conference, nonce)`: two uploads of one queue at once record each scan once,
/// the other gets `repeat`). The first accepted scan of a badge sets it `collected`, of a
/// delegation's member moves the delegation from `registered` or `confirmed` to `attended`
/// (audited). Queues `check_in.recorded` per recorded scan and `presence.updated` per
/// delegation newly present at a session. `batch` names field errors `items[i].`. Errors,
/// in this order: the access refusal, 422 (a `session_id` not of this conference).
pub async fn check_in(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    scans: Vec<Scan>,
    batch: bool,
) -> Result<Outcomes, StoreError> {
    let scope = Scope::conference(caller, conference_id, Need::CheckIn, UNCONDITIONAL);
    write::run(conn, scope, async |tx| {
        // A scan changes what public reads show only when it moves a delegation to attended
        // (logged) or records presence at a session (below). Its webhook deliveries are
        // ordered by the revision it bumps, so it bumps when a webhook of the conference wants
        // its `check_in.recorded` events, and queues them only then (a webhook registered
        // while the scan is being recorded gets the scans that begin after it).
        tx.unseen_unless_logged();
        let hooked = wants_scans(tx.conn, conference_id).await?;
        if hooked {
            tx.seen();
        }
        check_sessions(tx.conn, conference_id, &scans, batch).await?;
        let key = key(tx.conn, conference_id).await?;
        // The signature first: by this conference's key, or another's (`other_conference`).
        let kids: Vec<Option<String>> = scans.iter().map(|s| kid_of(&s.token)).collect();
        let foreign: Vec<String> = kids
            .iter()
            .flatten()
            .filter(|k| **k != key.kid)
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let others: HashMap<String, (Uuid, BadgeKey)> = if foreign.is_empty() {
            HashMap::new()
        } else {
            let rows: Vec<ForeignKey> = diesel::sql_query(
                "SELECT kid, conference_id, secret FROM badge_keys WHERE kid = ANY($1)",
            )
            .bind::<Array<Text>, _>(&foreign)
            .load(tx.conn)
            .await?;
            rows.into_iter()
                .filter_map(|r| Some((r.kid, (r.conference_id, BadgeKey::from_stored(&r.secret)?))))
                .collect()
        };
        // Each distinct token once (a queue scans one badge at several doors).
        let mut memo: HashMap<&str, Result<Claims, ScanResult>> = HashMap::new();
        let verified: Vec<Result<Claims, ScanResult>> = scans
            .iter()
            .zip(&kids)
            .map(|(scan, kid)| {
                memo.entry(scan.token.as_str())
                    .or_insert_with(|| verify(&key, &others, conference_id, &scan.token, kid.as_deref()))
                    .clone()
            })
            .collect();
        let subjects: Vec<Uuid> = verified
            .iter()
            .filter_map(|v| v.as_ref().ok().map(|c| c.sub))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let standings: Vec<Standing> = diesel::sql_query(format!(
            "SELECT b.member_id, b.delegation_id, b.version, b.status, \
             COALESCE({ACCREDITED}, false) AS accredited, \
             COALESCE(d.status IN ('registered', 'confirmed'), false) AS to_attend \
             FROM badges b LEFT JOIN delegation_members m ON m.id = b.member_id \
             LEFT JOIN delegations d ON d.id = m.delegation_id \
             WHERE b.conference_id = $1 AND b.member_id = ANY($2)"
        ))
        .bind::<SqlUuid, _>(conference_id)
        .bind::<Array<SqlUuid>, _>(&subjects)
        .load(tx.conn)
        .await?;
        let by_member: HashMap<Uuid, &Standing> =
            standings.iter().map(|s| (s.member_id, s)).collect();
        let mut outcomes: Vec<ScanOutcome> = Vec::with_capacity(scans.len());
        let mut seen: HashSet<&str> = HashSet::new();
        let mut candidates: Vec<(usize, Uuid, Uuid, i32)> = Vec::new();
        for (i, (scan, v)) in scans.iter().zip(&verified).enumerate() {
            let (result, member_id, delegation_id) = match v {
                Err(result) => (*result, None, None),
                Ok(claims) => {
                    let badge = by_member.get(&claims.sub).copied();
                    let result = judge(claims.ver, badge);
                    (result, Some(claims.sub), badge.map(|b| b.delegation_id))
                }
            };
            let result = if result == ScanResult::Accepted && !seen.insert(scan.nonce.as_str()) {
                ScanResult::Repeat
            } else {
                result
            };
            if let (ScanResult::Accepted, Some(m), Some(d), Ok(c)) =
                (result, member_id, delegation_id, v)
            {
                candidates.push((i, m, d, c.ver));
            }
            outcomes.push(ScanOutcome {
                nonce: scan.nonce.clone(),
                result,
                member_id,
                delegation_id,
            });
        }
        if candidates.is_empty() {
            return Ok(Outcomes { items: outcomes });
        }
        let ids: Vec<Uuid> = candidates.iter().map(|_| new_id()).collect();
        let pick = |f: &dyn Fn(&Scan) -> String| -> Vec<String> {
            candidates.iter().map(|(i, ..)| f(&scans[*i])).collect()
        };
        let nonces = pick(&|s| s.nonce.clone());
        let directions = pick(&|s| s.direction.as_str().to_string());
        let sessions: Vec<Option<Uuid>> = candidates.iter().map(|(i, ..)| scans[*i].session_id).collect();
        let times: Vec<DateTime<Utc>> = candidates.iter().map(|(i, ..)| scans[*i].scanned_at).collect();
        let members: Vec<Uuid> = candidates.iter().map(|c| c.1).collect();
        let delegations_of: Vec<Uuid> = candidates.iter().map(|c| c.2).collect();
        let versions: Vec<i32> = candidates.iter().map(|c| c.3).collect();
        let recorded: Vec<Recorded> = diesel::sql_query(
            "INSERT INTO check_ins (id, conference_id, nonce, member_id, delegation_id, session_id, \
             direction, version, scanned_at, recorded_by) \
             SELECT s.id, $1, s.nonce, s.member_id, s.delegation_id, s.session_id, s.direction, \
             s.version, s.scanned_at, $10 \
             FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], \
             $8::int4[], $9::timestamptz[]) \
             AS s (id, nonce, member_id, delegation_id, session_id, direction, version, scanned_at) \
             ON CONFLICT (conference_id, nonce) DO NOTHING RETURNING nonce",
        )
        .bind::<SqlUuid, _>(conference_id)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&nonces)
        .bind::<Array<SqlUuid>, _>(&members)
        .bind::<Array<SqlUuid>, _>(&delegations_of)
        .bind::<Array<Nullable<SqlUuid>>, _>(&sessions)
        .bind::<Array<Text>, _>(&directions)
        .bind::<Array<Int4>, _>(&versions)
        .bind::<Array<Timestamptz>, _>(&times)
        .bind::<Nullable<SqlUuid>, _>(Some(caller.id))
        .load(tx.conn)
        .await?;
        let recorded: HashSet<String> = recorded.into_iter().map(|r| r.nonce).collect();
        let mut first_scan: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        let mut new_ids = Vec::new();
        let mut attending: Vec<Uuid> = Vec::new();
        for (k, (i, m, d, _)) in candidates.iter().enumerate() {
            let scan = &scans[*i];
            if !recorded.contains(&scan.nonce) {
                outcomes[*i].result = ScanResult::Repeat;
                continue;
            }
            new_ids.push(ids[k]);
            let t = first_scan.entry(*m).or_insert(scan.scanned_at);
            *t = (*t).min(scan.scanned_at);
            attending.push(*d);
            if !hooked {
                continue;
            }
            tx.emit(
                Some(*d),
                "check_in.recorded",
                serde_json::json!({
                    "id": ids[k],
                    "nonce": scan.nonce,
                    "member_id": m,
                    "delegation_id": d,
                    "session_id": scan.session_id,
                    "direction": scan.direction,
                    "scanned_at": scan.scanned_at,
                }),
            );
        }
        if new_ids.is_empty() {
            return Ok(Outcomes { items: outcomes });
        }
        // Only badges still `issued` are collected now, only delegations not yet attended move:
        // a door scan of a member seen before changes neither.
        first_scan.retain(|m, _| by_member.get(m).is_some_and(|b| b.status == BadgeStatus::Issued));
        attending.retain(|d| standings.iter().any(|b| b.delegation_id == *d && b.to_attend));
        let (collected, at): (Vec<Uuid>, Vec<DateTime<Utc>>) = first_scan.into_iter().unzip();
        if !collected.is_empty() {
        diesel::sql_query(
            "UPDATE badges AS b SET status = 'collected', collected_at = f.at \
             FROM unnest($1::uuid[], $2::timestamptz[]) AS f (member_id, at) \
             WHERE b.member_id = f.member_id AND b.status = 'issued'",
        )
        .bind::<Array<SqlUuid>, _>(&collected)
        .bind::<Array<Timestamptz>, _>(&at)
        .execute(tx.conn)
        .await?;
        }
        attending.sort_unstable();
        attending.dedup();
        let before: Vec<DelegationRow> = if attending.is_empty() { Vec::new() } else { delegations::table
            .filter(delegations::id.eq_any(&attending))
            .filter(
                delegations::status
                    .eq_any([DelegationStatus::Registered, DelegationStatus::Confirmed]),
            )
            .order(delegations::id)
            .for_update()
            .select(DelegationRow::as_select())
            .load(tx.conn)
            .await?
        };
        for row in before {
            let mut after = row.clone();
            after.status = DelegationStatus::Attended;
            after.updated_at = Utc::now();
            diesel::update(delegations::table.find(row.id))
                .set((
                    delegations::status.eq(after.status),
                    delegations::updated_at.eq(after.updated_at),
                ))
                .execute(tx.conn)
                .await?;
            tx.updated(&row, &after);
        }
        // Presence at sessions (public: `GET .../sessions/{sid}/attendance`) comes from the
        // scans into them; door scans (no session) leave it as it was.
        let into_sessions = candidates
            .iter()
            .any(|(i, ..)| scans[*i].session_id.is_some() && recorded.contains(&scans[*i].nonce));
        if !into_sessions {
            return Ok(Outcomes { items: outcomes });
        }
        tx.seen();
        // Delegations present at a session for the first time: every `in` scan of theirs
        // there is one of this write's.
        let pairs: Vec<Pair> = diesel::sql_query(
            "SELECT session_id, delegation_id FROM check_ins \
             WHERE conference_id = $1 AND direction = 'in' AND session_id IS NOT NULL \
             AND (session_id, delegation_id) IN \
               (SELECT session_id, delegation_id FROM check_ins WHERE id = ANY($2)) \
             GROUP BY session_id, delegation_id \
             HAVING bool_and(id = ANY($2))",
        )
        .bind::<SqlUuid, _>(conference_id)
        .bind::<Array<SqlUuid>, _>(&new_ids)
        .load(tx.conn)
        .await?;
        for p in pairs {
            tx.emit(
                Some(p.delegation_id),
                "presence.updated",
                serde_json::json!({
                    "session_id": p.session_id,
                    "delegation_id": p.delegation_id,
                    "source": "check_in",
                }),
            );
        }
        Ok(Outcomes { items: outcomes })
    })
    .await
}

/// Every `session_id` of `scans` must be a session of the conference. Errors: 422 naming
/// `session_id` (or `items[i].session_id`).
async fn check_sessions(
    conn: &mut AsyncPgConnection,
    conference_id: Uuid,
    scans: &[Scan],
    batch: bool,
) -> Result<(), StoreError> {
    let wanted: Vec<Uuid> = scans
        .iter()
        .filter_map(|s| s.session_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    use crate::db::schema::sessions;
    let found: HashSet<Uuid> = sessions::table
        .filter(sessions::conference_id.eq(conference_id))
        .filter(sessions::id.eq_any(&wanted))
        .select(sessions::id)
        .load::<Uuid>(conn)
        .await?
        .into_iter()
        .collect();
    let errors: Vec<_> = scans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.session_id.is_some_and(|id| !found.contains(&id)))
        .map(|(i, _)| {
            let field = if batch {
                format!("items[{i}].session_id")
            } else {
                "session_id".to_string()
            };
            crate::domain::input::FieldError::new(field, "no such session in this conference")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errors))
    }
}

/// `GET .../check-ins?session_id=&member_id=&limit=&cursor=` (organisers, [`Need::Write`]):
/// the recorded scans, in the order recorded. Errors: the access refusal.
pub async fn list(
    conn: &mut AsyncPgConnection,
    caller: Caller,
    conference_id: Uuid,
    session_id: Option<Uuid>,
    member_id: Option<Uuid>,
    page: &PageRequest<Uuid>,
) -> Result<Page<CheckIn>, StoreError> {
    standing::conference(conn, Some(caller), conference_id, Need::Write).await?;
    let rows: Vec<CheckIn> = diesel::sql_query(
        "SELECT id, nonce, member_id, delegation_id, session_id, direction, version, scanned_at, \
         recorded_at FROM check_ins WHERE conference_id = $1 \
         AND ($2::uuid IS NULL OR session_id = $2) AND ($3::uuid IS NULL OR member_id = $3) \
         AND ($4::uuid IS NULL OR id > $4) ORDER BY id LIMIT $5",
    )
    .bind::<SqlUuid, _>(conference_id)
    .bind::<Nullable<SqlUuid>, _>(session_id)
    .bind::<Nullable<SqlUuid>, _>(member_id)
    .bind::<Nullable<SqlUuid>, _>(page.after)
    .bind::<diesel::sql_types::BigInt, _>(page.limit + 1)
    .load(conn)
    .await?;
    Ok(paginate(rows, page.limit, |r| r.id, |r| r))
}
