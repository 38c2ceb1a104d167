//! Passwords and bearer tokens. Passwords are kept as argon2id hashes (PHC strings); tokens are
//! 32 random bytes in base64url, and only their SHA-256 is stored, so a copy of the database
//! gives no usable token.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The shortest password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// argon2id with the crate's recommended costs (19 MiB, 2 passes, 1 lane): about 20–50 ms per
/// sign-in on a small server, far too slow for guessing at scale.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub(crate) fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of a real verification, so an unknown username answers as slowly as a
/// wrong password and usernames cannot be probed by timing.
pub(crate) fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default());
    let _ = verify_password(phc, password);
}

/// A fresh bearer token: 32 random bytes, base64url without padding.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a token: the hex SHA-256 of its text.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let phc = hash_password("demo1234").expect("hashes");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password(&phc, "demo1234"));
        assert!(!verify_password(&phc, "demo12345"));
        assert!(!verify_password("not a hash", "demo1234"));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_their_hash() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert!(!token_hash(&a).contains(&a));
    }
}
