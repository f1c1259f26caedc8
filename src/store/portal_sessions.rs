//! The focal points' portal sessions (`portal_sessions`, migration
//! 2026-12-07-200001_portal_sessions): one row per signed-in browser.
//!
//! The cookie holds a one-time code ([`super::codes`]: 256 random bits); only its SHA-256 is
//! stored. [`open`] makes a session for an account that has just proven its password (or an
//! invitation or reset code); [`find`] answers the active account behind a cookie, and only
//! while the session is unexpired, its account enabled and not ended since
//! (`tokens_valid_after`, moved by a password reset or change, ends sessions like tokens);
//! [`close`] deletes it (sign-out). Expired rows are swept by [`open`].

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::codes::{hash_code, new_code};
use super::new_id;
use crate::db::schema::{organisers, portal_sessions};

/// How long a portal session lasts after sign-in, in hours (a working day).
pub const SESSION_TTL_HOURS: i64 = 12;

/// A session just opened: the code for the cookie (never stored) and its form token.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The cookie's value: 43 URL-safe characters.
    pub code: String,
    /// The CSRF token of the session's forms.
    pub csrf: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// The account behind a live session.
#[derive(Debug, Clone)]
pub struct Live {
    /// The session's id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// Its admin flag.
    pub is_admin: bool,
    /// Its organiser grant.
    pub is_organiser: bool,
    /// Its e-mail address.
    pub email: String,
    /// Its name.
    pub name: String,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

/// Opens a session for `account` valid [`SESSION_TTL_HOURS`] and deletes the expired ones
/// of every account.
pub async fn open(conn: &mut AsyncPgConnection, account: Uuid) -> QueryResult<Opened> {
    diesel::delete(portal_sessions::table.filter(portal_sessions::expires_at.lt(diesel::dsl::now)))
        .execute(conn)
        .await?;
    let code = new_code();
    let csrf = new_code();
    // This server's clock, the one `tokens_valid_after` is set from.
    let now = Utc::now();
    let expires_at = now + Duration::hours(SESSION_TTL_HOURS);
    diesel::insert_into(portal_sessions::table)
        .values((
            portal_sessions::id.eq(new_id()),
            portal_sessions::code_hash.eq(hash_code(&code)),
            portal_sessions::organiser_id.eq(account),
            portal_sessions::csrf.eq(&csrf),
            portal_sessions::created_at.eq(now),
            portal_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(Opened {
        code,
        csrf,
        expires_at,
    })
}

/// The live session of cookie `code`: unexpired, its account enabled, and opened after the
/// account's `tokens_valid_after`. `None` otherwise.
pub async fn find(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Live>> {
    type Row = (
        Uuid,
        Uuid,
        bool,
        bool,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let row: Option<Row> = portal_sessions::table
        .inner_join(organisers::table.on(organisers::id.eq(portal_sessions::organiser_id)))
        .filter(portal_sessions::code_hash.eq(hash_code(code)))
        .filter(portal_sessions::expires_at.gt(diesel::dsl::now))
        .filter(organisers::disabled_at.is_null())
        .select((
            portal_sessions::id,
            organisers::id,
            organisers::is_admin,
            organisers::is_organiser,
            organisers::email,
            organisers::name,
            portal_sessions::csrf,
            portal_sessions::created_at,
            organisers::tokens_valid_after,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.and_then(
        |(id, account_id, is_admin, is_organiser, email, name, csrf, created, valid_after)| {
            // Opened at or after the account's last reset or change (this server's clock
            // for both).
            let live = valid_after.is_none_or(|after| created >= after);
            live.then_some(Live {
                id,
                account_id,
                is_admin,
                is_organiser,
                email,
                name,
                csrf,
            })
        },
    ))
}

/// Ends session `id` (sign-out).
pub async fn close(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::delete(portal_sessions::table.filter(portal_sessions::id.eq(id)))
        .execute(conn)
        .await?;
    Ok(())
}
