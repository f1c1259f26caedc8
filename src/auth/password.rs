//! Password hashing with argon2id (RFC 9106), always off the async workers.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// The shortest password accepted, in characters (API.md).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Bounds how many argon2 computations run at once: one per CPU. Each needs about 19 MiB and
/// is CPU-bound, so more at once only adds memory without finishing any sooner: unbounded,
/// 64 concurrent logins started 64 blocking threads, 3 GiB of RSS and a collapse of
/// throughput (benches/RESULTS.md). Waiters queue in arrival order.
fn argon2_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(cpus()))
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Argon2 work areas kept between verifications (at most one per permit). Allocating 19 MiB
/// for each login on a fresh blocking thread left glibc arenas holding hundreds of MiB.
static WORK_AREAS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn take_work_area() -> Vec<Block> {
    WORK_AREAS
        .lock()
        .map(|mut areas| areas.pop().unwrap_or_default())
        .unwrap_or_default()
}

fn return_work_area(area: Vec<Block>) {
    if let Ok(mut areas) = WORK_AREAS.lock() {
        if areas.len() < cpus() {
            areas.push(area);
        }
    }
}

/// Verifies `password` against a PHC string like `PasswordVerifier::verify_password` does
/// (same algorithm, version, parameters, salt; constant-time comparison of the outputs), but
/// computing in `area`, which is grown to the hash's memory cost and kept for reuse.
fn verify_in(phc: &str, password: &[u8], area: &mut Vec<Block>) -> bool {
    try_verify_in(phc, password, area).unwrap_or(false)
}

fn try_verify_in(
    phc: &str,
    password: &[u8],
    area: &mut Vec<Block>,
) -> argon2::password_hash::Result<bool> {
    let parsed = PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let blocks = params.block_count();
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut area[..blocks])
            .map_err(|_| argon2::password_hash::Error::Password)
    })?;
    Ok(computed == expected)
}

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
    let _permit = argon2_permits().acquire().await?;
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
    // The semaphore is never closed; if it were, verifying without a permit is still correct.
    let _permit = argon2_permits().acquire().await.ok();
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_string());
        let mut area = take_work_area();
        let ok = verify_in(&phc, password.expose_secret().as_bytes(), &mut area);
        return_work_area(area);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_in_accepts_the_password_and_refuses_others() {
        let secret = SecretString::from("correct horse battery staple".to_string());
        let phc = hash(&secret).unwrap_or_default();
        let mut area = Vec::new();
        assert!(verify_in(&phc, b"correct horse battery staple", &mut area));
        assert!(!verify_in(&phc, b"correct horse battery stapl", &mut area));
        assert!(!verify_in("not a phc string", b"x", &mut area));
        // The area is reused as it is for the next verification.
        assert!(verify_in(&phc, b"correct horse battery staple", &mut area));
    }
}
