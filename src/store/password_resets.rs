//! Password resets (`password_resets`; API.md "Accreditation", Passwords).
//!
//! [`request`] gives an active account a one-time code ([`super::codes`]: 256 random bits,
//! only its SHA-256 stored) valid [`RESET_TTL_MINUTES`], and queues the `password_reset`
//! e-mail that carries it in the same transaction; it does the same statements whether or
//! not an account has the email, so neither its answer nor its timing tells. [`confirm`]
//! spends a code: the new password, the account's address proven (`email_verified`), every
//! other open code of the account spent, and every token issued up to the reset ended
//! (`tokens_valid_after`, see [`crate::auth::token::issued_in_time`]).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::codes::{hash_code, new_code};
use super::outbox::{self, Email};
use super::{in_transaction, new_id, organisers as accounts, StoreError};
use crate::db::schema::{organisers, password_resets};
use crate::domain::mail::MailKind;

/// How long a reset code works, in minutes.
pub const RESET_TTL_MINUTES: i64 = 60;

/// Starts a reset for the active (not disabled) account with `email` (any letter case): a
/// code valid [`RESET_TTL_MINUTES`], stored hashed, and the `password_reset` e-mail to the
/// account (context `code`, `expires_at` as `%Y-%m-%d %H:%M` UTC), in one transaction. An
/// unknown or disabled email runs the same two statements, which then insert nothing.
pub async fn request(conn: &mut AsyncPgConnection, email: &str) -> Result<(), StoreError> {
    let code = new_code();
    let expires_at = Utc::now() + Duration::minutes(RESET_TTL_MINUTES);
    let account = accounts::find_by_email(conn, email)
        .await?
        .filter(|a| a.disabled_at.is_none());
    let emails: Vec<Email> = account
        .iter()
        .map(|a| {
            let context = serde_json::json!({
                "code": code,
                "expires_at": expires_at.format("%Y-%m-%d %H:%M").to_string(),
            });
            Email::new(MailKind::PasswordReset, None, &a.email, &a.name, context)
        })
        .collect();
    let account_id = account.map(|a| a.id);
    let id = new_id();
    let code_hash = hash_code(&code);
    in_transaction(conn, async |conn| {
        diesel::sql_query(
            "INSERT INTO password_resets (id, organiser_id, code_hash, expires_at) \
             SELECT $1, o.id, $2, $3 FROM organisers AS o \
             WHERE o.id = $4 AND o.disabled_at IS NULL",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(&code_hash)
        .bind::<Timestamptz, _>(expires_at)
        .bind::<Nullable<SqlUuid>, _>(account_id)
        .execute(conn)
        .await?;
        outbox::insert_emails(conn, &emails).await?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// The email of the active account whose code this is, if the code is usable (unused,
/// unexpired by the database's clock): the key its confirmation is rate-limited by.
pub async fn email_of(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<String>> {
    password_resets::table
        .inner_join(organisers::table.on(organisers::id.eq(password_resets::organiser_id)))
        .filter(password_resets::code_hash.eq(hash_code(code)))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(diesel::dsl::now))
        .filter(organisers::disabled_at.is_null())
        .select(organisers::email)
        .first(conn)
        .await
        .optional()
}

/// Spends `code` at `at` (this server's clock, the one tokens' `iat` come from): under the
/// code's row lock (a code works once, also when two confirmations race) the account gets
/// `password_hash`, a proven address (`email_verified`) and `tokens_valid_after = at`, and
/// its open codes are all spent. Answers the account and its `tokens_valid_after`, or `None`
/// when the code is unknown, used, expired or its account disabled.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    code: &str,
    password_hash: &str,
    at: DateTime<Utc>,
) -> Result<Option<(Uuid, DateTime<Utc>)>, StoreError> {
    let code_hash = hash_code(code);
    let done = in_transaction(conn, async |conn| {
        let account: Option<Uuid> = password_resets::table
            .filter(password_resets::code_hash.eq(&code_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(diesel::dsl::now))
            .select(password_resets::organiser_id)
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(account) = account else {
            return Ok(None);
        };
        let updated: Option<Uuid> = diesel::update(organisers::table)
            .filter(organisers::id.eq(account))
            .filter(organisers::disabled_at.is_null())
            .set((
                organisers::password_hash.eq(password_hash),
                organisers::email_verified.eq(true),
                organisers::tokens_valid_after.eq(Some(at)),
                organisers::updated_at.eq(diesel::dsl::now),
            ))
            .returning(organisers::id)
            .get_result(conn)
            .await
            .optional()?;
        if updated.is_none() {
            return Ok(None);
        }
        diesel::update(password_resets::table)
            .filter(password_resets::organiser_id.eq(account))
            .filter(password_resets::used_at.is_null())
            .set(password_resets::used_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        Ok(Some((account, at)))
    })
    .await?;
    Ok(done)
}
