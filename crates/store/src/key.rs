//! The database key: 32 bytes derived from the signed-in user's secret with argon2id and a
//! random per-file salt. The salt and the cost parameters live in a small plaintext sidecar
//! next to the database (`<db>.salt`), so the parameters can be raised for new files without
//! locking out old ones.
//!
//! Cost: argon2id with 96 MiB of memory, 3 passes, 1 lane ([`KDF_M_COST_KIB`], [`KDF_T_COST`],
//! [`KDF_P_COST`]). A sign-in (derivation and open) takes about a third of a second on the
//! project's 2-core machines in a release build (the benchmark prints it): slow enough to make
//! guessing a stolen laptop's password expensive, quick enough for a sign-in. SQLCipher's own
//! PBKDF2 is skipped by handing it the raw key.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Memory cost of the key derivation, in KiB.
pub const KDF_M_COST_KIB: u32 = 96 * 1024;
/// Passes over the memory.
pub const KDF_T_COST: u32 = 3;
/// Lanes.
pub const KDF_P_COST: u32 = 1;

/// The raw 32-byte database key.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(pub [u8; 32]);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(..)")
    }
}

impl DbKey {
    /// A random key (tests, benchmarks, devices that keep the key elsewhere).
    pub fn random() -> DbKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        DbKey(bytes)
    }

    /// The key as SQLCipher's raw-key literal `x'…'` (64 hex digits).
    pub(crate) fn pragma_literal(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }
}

/// What the sidecar holds: how to derive the key again. Nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KdfHeader {
    format: u32,
    algorithm: String,
    salt: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

/// The sidecar's path: `<db>.salt`.
pub fn salt_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".salt");
    PathBuf::from(name)
}

fn derive(secret: &str, header: &KdfHeader) -> Result<DbKey, StoreError> {
    let salt = hex::decode(&header.salt).map_err(|_| StoreError::Corrupt("the key file's salt is not hex".into()))?;
    let params = Params::new(header.m_cost_kib, header.t_cost, header.p_cost, Some(32))
        .map_err(|e| StoreError::Corrupt(format!("the key file's parameters are unusable: {e}")))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret.as_bytes(), &salt, &mut out)
        .map_err(|e| StoreError::Corrupt(format!("key derivation failed: {e}")))?;
    Ok(DbKey(out))
}

/// The key of the database at `db` for `secret`: read the sidecar of an existing database, or
/// write a new one (fresh salt) for a database about to be created.
pub fn key_for(db: &Path, secret: &str) -> Result<DbKey, StoreError> {
    let sidecar = salt_path(db);
    let header = if db.exists() {
        let text = std::fs::read_to_string(&sidecar).map_err(|e| {
            StoreError::Corrupt(format!("the database's key file {} cannot be read: {e}", sidecar.display()))
        })?;
        serde_json::from_str::<KdfHeader>(&text)
            .map_err(|e| StoreError::Corrupt(format!("the database's key file is damaged: {e}")))?
    } else {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let header = KdfHeader {
            format: 1,
            algorithm: "argon2id".into(),
            salt: hex::encode(salt),
            m_cost_kib: KDF_M_COST_KIB,
            t_cost: KDF_T_COST,
            p_cost: KDF_P_COST,
        };
        let text = serde_json::to_string_pretty(&header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        std::fs::write(&sidecar, text)?;
        header
    };
    if header.algorithm != "argon2id" || header.format != 1 {
        return Err(StoreError::Corrupt(format!("unknown key derivation {} v{}", header.algorithm, header.format)));
    }
    derive(secret, &header)
}
