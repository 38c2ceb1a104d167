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
/// sign-in on a small server, far too slow for guessing at scale. Fixed here, not taken from the
/// crate's defaults, so the work per sign-in cannot grow by itself.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The most a stored hash may ask of one verification: a hash with higher costs (a damaged or
/// planted row) is refused rather than computed.
const MAX_M_COST_KIB: u32 = 64 * 1024;
const MAX_T_COST: u32 = 8;
const MAX_P_COST: u32 = 4;

fn bounded(parsed: &PasswordHash<'_>) -> bool {
    Params::try_from(parsed)
        .is_ok_and(|p| p.m_cost() <= MAX_M_COST_KIB && p.t_cost() <= MAX_T_COST && p.p_cost() <= MAX_P_COST)
}

pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub(crate) fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) if bounded(&parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Ok(_) => {
            tracing::error!("a stored password hash asks for more work than allowed; refused");
            false
        }
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

/// A fresh device recovery secret: 32 random bytes in hex.
pub(crate) fn new_device_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
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
    fn a_stored_hash_asking_for_unbounded_work_is_refused_without_computing_it() {
        let costly = "$argon2id$v=19$m=4194304,t=100,p=1$c29tZXNhbHRzb21lc2FsdA$\
                      YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
        assert!(PasswordHash::new(costly).is_ok_and(|p| Params::try_from(&p).is_ok()), "a well-formed hash");
        let started = std::time::Instant::now();
        assert!(!verify_password(costly, "demo1234"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
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
