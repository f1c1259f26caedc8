//! Organiser accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
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
