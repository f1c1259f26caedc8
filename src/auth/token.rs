//! Access tokens: JWTs signed HS256 (RFC 7519), validated per RFC 8725 — algorithm allow-list,
//! required `iss`/`aud`/`sub`/`iat`/`exp`, a leeway of a few seconds, typed claims.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `iss` of every token.
pub const ISSUER: &str = "plenary";
/// `aud` of every token.
pub const AUDIENCE: &str = "plenary-api";
/// Lifetime of an access token, in seconds (at most one hour, API.md).
pub const TOKEN_TTL_SECONDS: i64 = 3600;
/// Clock skew tolerated when checking `exp` and `iat`, in seconds.
pub const LEEWAY_SECONDS: u64 = 5;
/// The earliest `iat` accepted: 2020-01-01T00:00:00Z, in seconds since the epoch (no token of
/// this service was issued before; an older or absurd `iat` is refused).
pub const EARLIEST_IAT: i64 = 1_577_836_800;
/// The shortest signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims of an access token. Every field is required and strictly typed: a claim of the
/// wrong JSON type fails deserialisation and the token is refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// The organiser's id.
    pub sub: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch (at most `iat + 3600`).
    pub exp: i64,
}

/// Signing and verification keys derived from `PLENARY_JWT_SECRET`.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

/// Why a token was refused (never shown to clients beyond "invalid").
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, algorithm, claims or expiry invalid.
    #[error("invalid token: {0}")]
    Invalid(String),
}

impl TokenKeys {
    /// Keys from a secret of at least [`MIN_SECRET_BYTES`] bytes.
    ///
    /// Errors: a message when the secret is too short.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "PLENARY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "iat", "exp"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// Issues a token for `organiser` valid for [`TOKEN_TTL_SECONDS`].
    pub fn issue(&self, organiser: Uuid) -> Result<String, TokenError> {
        self.issue_after(organiser, None)
    }

    /// Issues a token for `organiser` that its `tokens_valid_after` accepts
    /// ([`issued_in_time`]): `iat` is now, or the second after `tokens_valid_after` when
    /// that is later (a token issued in the same second as a password reset; at most one
    /// second ahead, within [`LEEWAY_SECONDS`]). `exp` is `iat` + [`TOKEN_TTL_SECONDS`].
    pub fn issue_after(
        &self,
        organiser: Uuid,
        tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<String, TokenError> {
        let now = first_valid_iat(chrono::Utc::now().timestamp(), tokens_valid_after);
        let claims = Claims {
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            sub: organiser,
            iat: now,
            exp: now + TOKEN_TTL_SECONDS,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// Verifies a token and returns its claims. Refuses other algorithms, bad signatures,
    /// missing or wrong claims, claims of the wrong type, expired tokens, tokens issued in the
    /// future and tokens living longer than one hour.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(0);
        check_lifetime(&claims, now, leeway)?;
        Ok(claims)
    }
}

/// True when a token issued at `iat` (whole seconds) is still good for an account whose
/// tokens issued up to `tokens_valid_after` were ended (a password reset or change at that
/// instant). `iat` must be after the second the reset happened in: a token of the same
/// second cannot be told apart from one issued just before the reset, so it is refused, and
/// tokens issued after a reset in that same second carry the next second
/// ([`TokenKeys::issue_after`]).
pub fn issued_in_time(iat: i64, tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    tokens_valid_after.is_none_or(|t| iat > t.timestamp())
}

/// The `iat` of a token issued at `now` (seconds) that [`issued_in_time`] accepts.
fn first_valid_iat(now: i64, tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>) -> i64 {
    match tokens_valid_after {
        Some(t) => now.max(t.timestamp().saturating_add(1)),
        None => now,
    }
}

/// Refuses an `iat` before [`EARLIEST_IAT`] or later than `now + leeway`, and an `exp` more
/// than [`TOKEN_TTL_SECONDS`] after `iat` (checked arithmetic: no claim values can overflow).
fn check_lifetime(claims: &Claims, now: i64, leeway: i64) -> Result<(), TokenError> {
    if claims.iat < EARLIEST_IAT {
        return Err(TokenError::Invalid("issued before 2020".to_string()));
    }
    if claims.iat > now.saturating_add(leeway) {
        return Err(TokenError::Invalid("issued in the future".to_string()));
    }
    match claims.exp.checked_sub(claims.iat) {
        Some(lifetime) if lifetime <= TOKEN_TTL_SECONDS => Ok(()),
        _ => Err(TokenError::Invalid(
            "lives longer than one hour".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn short_secret_is_refused() {
        assert!(TokenKeys::new(b"short").is_err());
    }

    #[test]
    fn issued_token_verifies() {
        let keys = TokenKeys::new(SECRET).map_err(|e| e.to_string());
        let keys = keys.as_ref().ok();
        let id = Uuid::now_v7();
        let token = keys.and_then(|k| k.issue(id).ok());
        let claims = keys.zip(token).and_then(|(k, t)| k.verify(&t).ok());
        assert_eq!(claims.map(|c| c.sub), Some(id));
    }

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            sub: Uuid::nil(),
            iat,
            exp,
        }
    }

    #[test]
    fn tokens_of_the_reset_second_are_refused_and_new_ones_carry_the_next() {
        use chrono::TimeZone;
        let reset = chrono::Utc
            .timestamp_opt(1_800_000_000, 400_000_000)
            .single();
        assert!(issued_in_time(1_799_999_999, None));
        // Issued before the reset, in the same second or earlier: refused.
        assert!(!issued_in_time(1_800_000_000, reset));
        assert!(!issued_in_time(1_799_999_999, reset));
        assert!(issued_in_time(1_800_000_001, reset));
        // Issued in the reset's second after it: stamped with the next second, accepted.
        let iat = first_valid_iat(1_800_000_000, reset);
        assert_eq!(iat, 1_800_000_001);
        assert!(issued_in_time(iat, reset));
        assert_eq!(first_valid_iat(1_800_000_005, reset), 1_800_000_005);
        // A reset on a whole second: a token of that second is refused too.
        let whole = chrono::Utc.timestamp_opt(1_800_000_000, 0).single();
        assert!(!issued_in_time(1_800_000_000, whole));
        assert!(issued_in_time(first_valid_iat(1_800_000_000, whole), whole));
    }

    #[test]
    fn extreme_iat_and_exp_are_refused_without_overflow() {
        let now = 1_800_000_000;
        // `exp - iat` overflows i64 here: it must be refused, not panic or wrap.
        assert!(check_lifetime(&claims(EARLIEST_IAT, i64::MAX), now, 5).is_err());
        assert!(check_lifetime(&claims(i64::MIN, i64::MAX), now, 5).is_err());
        // `i64::MIN - now` overflows: refused (the old `exp - iat` panicked or wrapped).
        assert!(check_lifetime(&claims(now, i64::MIN), now, 5).is_err());
        // Before 2020, or beyond the leeway in the future.
        assert!(check_lifetime(&claims(EARLIEST_IAT - 1, EARLIEST_IAT), now, 5).is_err());
        assert!(check_lifetime(&claims(now + 6, now + 60), now, 5).is_err());
        assert!(check_lifetime(&claims(i64::MAX, i64::MAX), now, 5).is_err());
        assert!(check_lifetime(&claims(now, now), i64::MAX, 5).is_ok());
        // Within the rules.
        assert!(check_lifetime(&claims(now + 5, now + 3605), now, 5).is_ok());
        assert!(check_lifetime(&claims(now, now + 3601), now, 5).is_err());
    }
}
