//! Organiser accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::IntoSql;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::lower;
use crate::db::schema::organisers;

/// An organiser row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisers)]
pub struct OrganiserRow {
    /// UUID v7.
    pub id: Uuid,
    /// Email, unique regardless of case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Admins see and change everything.
    pub is_admin: bool,
    /// Set when the account is disabled; its tokens stop working.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The organiser grant: may create conferences and organisations. Accounts made by
    /// accepting a focal-point invitation have none.
    pub is_organiser: bool,
    /// Tokens whose `iat` is not after this instant's whole second are refused
    /// ([`crate::auth::token::issued_in_time`]): set by a password reset or change.
    pub tokens_valid_after: Option<DateTime<Utc>>,
    /// False for an account made from an invitation code handed out in an API response
    /// (`PLENARY_INVITATION_CODES_IN_RESPONSE`) until a password reset proves its address;
    /// such an account receives no conference grants.
    pub email_verified: bool,
}

/// Creates an account: an organiser (`is_organiser`, from `plenary organiser add`) or a
/// focal point's account (from an accepted invitation). Errors: unique violation (409) when
/// the email exists in any case.
pub async fn create(
    conn: &mut AsyncPgConnection,
    email: &str,
    name: &str,
    password_hash: &str,
    is_admin: bool,
    is_organiser: bool,
) -> QueryResult<OrganiserRow> {
    diesel::insert_into(organisers::table)
        .values((
            organisers::id.eq(super::new_id()),
            organisers::email.eq(email),
            organisers::name.eq(name),
            organisers::password_hash.eq(password_hash),
            organisers::is_admin.eq(is_admin),
            organisers::is_organiser.eq(is_organiser),
        ))
        .returning(OrganiserRow::as_returning())
        .get_result(conn)
        .await
}

/// Sets the password (and name) of an existing organiser found by email; `None` when absent.
pub async fn reset_password(
    conn: &mut AsyncPgConnection,
    email: &str,
    password_hash: &str,
) -> QueryResult<Option<OrganiserRow>> {
    diesel::update(organisers::table)
        .filter(lower(organisers::email).eq(lower(email)))
        .set((
            organisers::password_hash.eq(password_hash),
            organisers::disabled_at.eq(None::<DateTime<Utc>>),
            organisers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrganiserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The organiser with this email (any letter case), enabled or not.
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<OrganiserRow>> {
    organisers::table
        .filter(lower(organisers::email).eq(lower(email)))
        .select(OrganiserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The organiser with this id if it exists and is not disabled.
pub async fn find_active(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<OrganiserRow>> {
    organisers::table
        .filter(organisers::id.eq(id))
        .filter(organisers::disabled_at.is_null())
        .select(OrganiserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// What [`make_organiser`] did to an existing account.
#[derive(Debug, Clone)]
pub struct Promoted {
    /// The account after the change.
    pub row: OrganiserRow,
    /// True when its password was replaced (and its tokens ended): the account had not
    /// proven its address, so its password may be a stranger's.
    pub password_replaced: bool,
}

/// Makes the existing account with `email` (any letter case) an organiser (and an admin
/// when `admin`; an admin stays one) with a verified address. An unverified account's
/// password is replaced by `password_hash` and its tokens end, since whoever created it may
/// not own the address; a verified account keeps its password and its sessions. `None`
/// when no account has the email.
pub async fn make_organiser(
    conn: &mut AsyncPgConnection,
    email: &str,
    password_hash: &str,
    admin: bool,
) -> QueryResult<Option<Promoted>> {
    // Two single-statement updates: the first applies only to an unverified account.
    let replaced = diesel::update(organisers::table)
        .filter(lower(organisers::email).eq(lower(email)))
        .filter(organisers::email_verified.eq(false))
        .set((
            organisers::password_hash.eq(password_hash),
            organisers::tokens_valid_after.eq(Some(Utc::now())),
            organisers::email_verified.eq(true),
            organisers::is_organiser.eq(true),
            organisers::is_admin
                .eq(organisers::is_admin.or(admin.into_sql::<diesel::sql_types::Bool>())),
            organisers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrganiserRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = replaced {
        return Ok(Some(Promoted {
            row,
            password_replaced: true,
        }));
    }
    let kept = diesel::update(organisers::table)
        .filter(lower(organisers::email).eq(lower(email)))
        .set((
            organisers::email_verified.eq(true),
            organisers::is_organiser.eq(true),
            organisers::is_admin
                .eq(organisers::is_admin.or(admin.into_sql::<diesel::sql_types::Bool>())),
            organisers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrganiserRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(kept.map(|row| Promoted {
        row,
        password_replaced: false,
    }))
}

/// Sets the password of active account `id` and ends every token issued up to `at` (a
/// password change, `POST /auth/password`; `at` is this server's clock, the one tokens'
/// `iat` come from). Answers the new `tokens_valid_after`, or `None` when the account no
/// longer exists or is disabled.
pub async fn change_password(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    password_hash: &str,
    at: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    diesel::update(organisers::table)
        .filter(organisers::id.eq(id))
        .filter(organisers::disabled_at.is_null())
        .set((
            organisers::password_hash.eq(password_hash),
            organisers::tokens_valid_after.eq(Some(at)),
            organisers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(organisers::tokens_valid_after)
        .get_result::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()
        .map(Option::flatten)
}
