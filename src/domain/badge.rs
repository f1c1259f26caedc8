//! Badges (API.md, "Badges, check-in and presence"): the conference's Ed25519 key, the badge
//! token (a JWS compact serialisation, RFC 7515, `"alg": "EdDSA"`, RFC 8037) and what a
//! `PATCH .../badge` and a `POST .../check-ins` may contain, checked once.
//!
//! A token carries `{"iss": conference id, "sub": member id, "ver": version, "cat":
//! category}` and nothing else: no name, no photo, no delegation. It is verified here with
//! the key alone (the signature, `alg` exactly `EdDSA`, the `kid`); whether its version is
//! current is the store's ([`crate::store::badges`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::input::{Errors, Invalid, Obj};
use super::vocab::{BadgeCategory, ScanDirection};

/// The most scans of one `POST .../check-ins` (a scanner's offline queue).
pub const MAX_SCANS: usize = 500;

/// The longest nonce, in characters.
pub const MAX_NONCE: usize = 64;

/// The longest token read, in characters (a badge's is about 300).
pub const MAX_TOKEN: usize = 4096;

/// How far ahead of the server's clock a scan may be dated.
pub const MAX_AHEAD: Duration = Duration::minutes(5);

/// The PKCS #8 v1 prefix of an Ed25519 private key (RFC 8410 §7): what `jsonwebtoken` reads
/// before the 32-byte seed.
const PKCS8_ED25519: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A conference's badge key: the Ed25519 seed, its public key and the key's id.
#[derive(Clone)]
pub struct BadgeKey {
    secret: [u8; 32],
    /// The public key (RFC 8032, 32 bytes).
    pub public: [u8; 32],
    /// The JWK thumbprint of the public key (RFC 7638, base64url of SHA-256).
    pub kid: String,
}

impl std::fmt::Debug for BadgeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BadgeKey").field("kid", &self.kid).finish()
    }
}

/// The public key as a JWK (RFC 8037 §2): `{"kty": "OKP", "crv": "Ed25519", "x", "kid"}`,
/// with `alg` and `use` saying what it verifies.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    /// `OKP`.
    pub kty: &'static str,
    /// `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    /// The key id, as in each token's header.
    pub kid: String,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The payload of a badge token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The conference's id.
    pub iss: Uuid,
    /// The member's id.
    pub sub: Uuid,
    /// The badge's version (1, then + 1 at each reissue).
    pub ver: i32,
    /// The badge's category.
    pub cat: String,
}

/// Why a token is not a valid badge of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadToken;

impl BadgeKey {
    /// A new key from 32 random bytes of the operating system's generator.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        Self::from_seed(secret)
    }

    /// The key of a stored seed; `None` unless it is 32 bytes.
    pub fn from_stored(secret: &[u8]) -> Option<Self> {
        Some(Self::from_seed(secret.try_into().ok()?))
    }

    fn from_seed(secret: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&secret)
            .verifying_key()
            .to_bytes();
        let x = URL_SAFE_NO_PAD.encode(public);
        // RFC 7638 §3.2: the required members in lexicographic order, no white space.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        BadgeKey {
            secret,
            public,
            kid,
        }
    }

    /// The seed, to store.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(self.public),
            kid: self.kid.clone(),
            alg: "EdDSA",
            use_: "sig",
        }
    }

    /// The token of `claims`: `{"alg": "EdDSA", "kid"}` as header. Errors: the signer's
    /// (never, for a key made here).
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = None;
        header.kid = Some(self.kid.clone());
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&PKCS8_ED25519);
        der.extend_from_slice(&self.secret);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der))
    }

    /// The claims of `token` if this key signed it with `EdDSA` (any other `alg`, `none`
    /// included, is refused before the signature is looked at). Errors: [`BadToken`].
    pub fn verify(&self, token: &str) -> Result<Claims, BadToken> {
        let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(self.public))
            .map_err(|_| BadToken)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|_| BadToken)
    }
}

/// The `kid` of a token's header, unverified (to find which conference's key it names).
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Reads `PATCH .../badge` `{"category"}`. Errors: `category` missing or not one of
/// [`BadgeCategory::ALL`]; unknown fields.
pub fn parse_badge_patch(value: &Value) -> Result<BadgeCategory, Invalid> {
    let mut errors = Errors::new();
    let mut category = None;
    if let Some(mut o) = Obj::new(value, "", &mut errors) {
        let raw = o
            .one_of("category", BadgeCategory::ALL, &mut errors)
            .filter_map(BadgeCategory::parse);
        category = o.required("category", raw, &mut errors);
        o.finish(&mut errors);
    }
    errors.check()?;
    category.ok_or_else(|| {
        Invalid(vec![super::input::FieldError::new(
            "category",
            "is required",
        )])
    })
}

/// Reads a body that must be empty or `{}` (`POST .../badge/reissue`). Errors: any field.
pub fn parse_nothing(value: &Value) -> Result<(), Invalid> {
    let mut errors = Errors::new();
    if !value.is_null() {
        if let Some(o) = Obj::new(value, "", &mut errors) {
            o.finish(&mut errors);
        }
    }
    errors.check()
}

/// One scan of a badge at a door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// What the QR code held (checked by the store: a bad token is a result, not an error).
    pub token: String,
    /// The session scanned into or out of; `None` for the venue's door.
    pub session_id: Option<Uuid>,
    /// In or out.
    pub direction: ScanDirection,
    /// When the scanner read it (defaults to now).
    pub scanned_at: DateTime<Utc>,
    /// The scanner's id of the scan, unique within the conference.
    pub nonce: String,
}

/// Reads `POST .../check-ins`: one scan `{"token", "session_id", "direction", "scanned_at",
/// "nonce"}` or `{"items": [...]}` of 1 to [`MAX_SCANS`]; answers the scans in the order
/// sent, and whether the body was a batch (`items`: field errors found later are named
/// `items[i].field`). `direction` defaults to `in`, `scanned_at` to `now` and may not be more than
/// [`MAX_AHEAD`] after it. Errors (every one at once, under `items[i].` in a batch): `token`
/// or `nonce` missing or too long, `session_id` not a UUID, `direction` neither `in` nor `out`,
/// `scanned_at` not RFC 3339 or too far ahead; unknown fields.
pub fn parse_scans(value: &Value, now: DateTime<Utc>) -> Result<(Vec<Scan>, bool), Invalid> {
    let mut errors = Errors::new();
    let mut scans = Vec::new();
    let batch = value.get("items").is_some();
    match value.get("items") {
        Some(items) if value.is_object() => {
            if let Some(mut o) = Obj::new(value, "", &mut errors) {
                let _ = o.raw("items");
                o.finish(&mut errors);
            }
            match items.as_array() {
                Some(list) if list.is_empty() || list.len() > MAX_SCANS => errors.push(
                    "items",
                    format!("must hold 1 to {MAX_SCANS} scans, not {}", list.len()),
                ),
                Some(list) => {
                    for (i, item) in list.iter().enumerate() {
                        scans.extend(parse_scan(item, &format!("items[{i}]"), now, &mut errors));
                    }
                }
                None => errors.push("items", "must be an array of scans"),
            }
        }
        _ => scans.extend(parse_scan(value, "", now, &mut errors)),
    }
    errors.finish((scans, batch))
}

fn parse_scan(
    value: &Value,
    prefix: &str,
    now: DateTime<Utc>,
    errors: &mut Errors,
) -> Option<Scan> {
    let mut o = Obj::new(value, prefix, errors)?;
    let token = o.string("token", 1, MAX_TOKEN, errors);
    let token = o.required("token", token, errors);
    let session_id = o.uuid("session_id", errors).patch().flatten();
    let direction = o
        .one_of("direction", ScanDirection::ALL, errors)
        .filter_map(ScanDirection::parse)
        .value()
        .unwrap_or(ScanDirection::In);
    let scanned_at = o.instant("scanned_at", errors).value().unwrap_or(now);
    if scanned_at > now + MAX_AHEAD {
        errors.push(
            o.path("scanned_at"),
            "must not be more than 5 minutes ahead of the server's clock",
        );
    }
    let nonce = o.string("nonce", 1, MAX_NONCE, errors);
    let nonce = o.required("nonce", nonce, errors);
    o.finish(errors);
    Some(Scan {
        token: token?,
        session_id,
        direction,
        scanned_at,
        nonce: nonce?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Claims {
        Claims {
            iss: Uuid::now_v7(),
            sub: Uuid::now_v7(),
            ver: 1,
            cat: "party".into(),
        }
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let (key, other) = (BadgeKey::generate(), BadgeKey::generate());
        let c = claims();
        let token = key.sign(&c).expect("sign");
        assert_eq!(key.verify(&token), Ok(c));
        assert_eq!(other.verify(&token), Err(BadToken));
        assert_eq!(kid_of(&token).as_deref(), Some(key.kid.as_str()));
        assert!(token.len() < 400, "{}", token.len());
        let again = BadgeKey::from_stored(key.secret()).expect("32 bytes");
        assert_eq!(again.public, key.public);
        assert_eq!(again.kid, key.kid);
    }

    #[test]
    fn alg_none_hs256_and_a_forged_signature_are_refused() {
        let key = BadgeKey::generate();
        let c = claims();
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).expect("json"));
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
        );
        assert_eq!(key.verify(&none), Err(BadToken));
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &c,
            &EncodingKey::from_secret(&key.public),
        )
        .expect("hs256");
        assert_eq!(key.verify(&hs), Err(BadToken));
        let token = key.sign(&c).expect("sign");
        let mut forged = c.clone();
        forged.ver = 9;
        let (head, rest) = token.split_once('.').expect("jws");
        let sig = rest.split_once('.').expect("jws").1;
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("json"));
        assert_eq!(key.verify(&format!("{head}.{body}.{sig}")), Err(BadToken));
    }

    #[test]
    fn scans_are_read_one_or_many() {
        let now = Utc::now();
        let one = parse_scans(&json!({"token": "t", "nonce": "n"}), now).expect("one");
        let (one, batch) = one;
        assert!(!batch);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].direction, ScanDirection::In);
        assert_eq!(one[0].scanned_at, now);
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"token": "t", "nonce": format!("n{i}"), "direction": "out"}))
            .collect();
        assert_eq!(
            parse_scans(&json!({"items": items}), now)
                .expect("batch")
                .0
                .len(),
            3
        );
        let fields = |v: Value| match parse_scans(&v, now) {
            Ok(_) => Vec::new(),
            Err(Invalid(e)) => e.into_iter().map(|f| f.field).collect::<Vec<_>>(),
        };
        assert_eq!(fields(json!({"token": "t"})), vec!["nonce"]);
        assert_eq!(
            fields(json!({"token": "t", "nonce": "x".repeat(65)})),
            vec!["nonce"]
        );
        let ahead = (now + Duration::minutes(6)).to_rfc3339();
        assert_eq!(
            fields(json!({"items": [{"token": "t", "nonce": "n", "scanned_at": ahead}]})),
            vec!["items[0].scanned_at"]
        );
        let many: Vec<Value> = (0..501)
            .map(|i| json!({"token": "t", "nonce": format!("{i}")}))
            .collect();
        assert_eq!(fields(json!({"items": many})), vec!["items"]);
        assert_eq!(
            fields(json!({"token": "t", "nonce": "n", "owner": 1})),
            vec!["owner"]
        );
    }
}
