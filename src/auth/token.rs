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
        let now = chrono::Utc::now().timestamp();
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
