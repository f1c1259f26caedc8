//! Password hashing with argon2id (RFC 9106), always off the async workers.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

/// The shortest password accepted, in characters (API.md).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Hashes a password into a PHC string (`$argon2id$v=19$...`). CPU-heavy: call it from a
/// blocking thread ([`hash_blocking`]).
pub fn hash(password: &SecretString) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)?
        .to_string())
}

/// [`hash`] on tokio's blocking pool.
pub async fn hash_blocking(password: SecretString) -> anyhow::Result<String> {
    let hashed = tokio::task::spawn_blocking(move || hash(&password)).await?;
    hashed.map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// A hash of a random password, verified against when the email is unknown so that unknown
/// emails and wrong passwords take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = SecretString::from(uuid::Uuid::new_v4().to_string());
        hash(&random).unwrap_or_default()
    })
}

/// Verifies `password` against `stored` (or against a dummy hash when `stored` is `None`), on
/// tokio's blocking pool. True only for a real match.
pub async fn verify_blocking(stored: Option<String>, password: SecretString) -> bool {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        real && ok
    })
    .await
    .unwrap_or(false)
}

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters.
pub fn check_strength(password: &SecretString) -> Result<(), String> {
    let n = password.expose_secret().chars().count();
    if n == 0 {
        Err("the password is empty".to_string())
    } else if n < MIN_PASSWORD_CHARS {
        Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ))
    } else {
        Ok(())
    }
}
