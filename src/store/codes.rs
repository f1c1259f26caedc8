//! One-time codes (focal-point invitations, password resets): 256 random bits from the
//! operating system's CSPRNG, base64url without padding (43 characters), stored only as
//! their SHA-256 (hex), so a copy of the database holds no usable code.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh code: 32 bytes from the operating system's CSPRNG, base64url without padding.
pub fn new_code() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a code: its SHA-256, hex (64 characters).
pub fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_url_safe_256_bits_and_hashed_to_hex() {
        let a = new_code();
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, new_code());
        assert_eq!(hash_code(&a).len(), 64);
        assert_eq!(hash_code(&a), hash_code(&a));
    }
}
