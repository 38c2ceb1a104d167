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
//!
//! Recovery: the sidecar may also hold the key wrapped with the device's recovery secret, which
//! the sync server keeps and gives the device at each online sign-in. So the key is unlocked by
//! the password, or by the server's word: after a password change on the server, an online
//! sign-in with the new password unwraps the key and re-keys the database for the new password
//! ([`Store::change_key`]). The secret never touches the disk outside the encrypted database.
//! During a re-key the sidecar keeps the previous derivation (and its wrap) too, so a cut at any
//! point leaves a database that one of them opens.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// The key wrapped with the device's recovery secret (older files have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recovery: Option<RecoveryWrap>,
    /// While the database is being re-keyed: the derivation it had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<Box<KdfHeader>>,
}

/// The database key XOR a key derived from the device's recovery secret and a random nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RecoveryWrap {
    /// The device whose secret wraps the key (the server is asked for that device's secret).
    device_id: String,
    nonce: String,
    wrapped: String,
}

impl RecoveryWrap {
    fn new(key: &DbKey, device_id: Uuid, secret: &[u8]) -> Result<RecoveryWrap, StoreError> {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let pad = recovery_pad(secret, &nonce)?;
        let wrapped: Vec<u8> = key.0.iter().zip(pad.iter()).map(|(k, p)| k ^ p).collect();
        Ok(RecoveryWrap { device_id: device_id.to_string(), nonce: hex::encode(nonce), wrapped: hex::encode(wrapped) })
    }

    /// The key, if the wrap is well-formed (whether it is the right one, only opening tells).
    fn unwrap_key(&self, secret: &[u8]) -> Option<DbKey> {
        let nonce = hex::decode(&self.nonce).ok()?;
        let wrapped: [u8; 32] = hex::decode(&self.wrapped).ok()?.try_into().ok()?;
        let pad = recovery_pad(secret, &nonce).ok()?;
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = wrapped[i] ^ pad[i];
        }
        Some(DbKey(key))
    }
}

/// 32 bytes from the recovery secret and a nonce. The secret is 32 random bytes, so a cheap
/// argon2 run serves as the key derivation (no guessing to slow down).
fn recovery_pad(secret: &[u8], nonce: &[u8]) -> Result<[u8; 32], StoreError> {
    let params =
        Params::new(64, 1, 1, Some(32)).map_err(|e| StoreError::Corrupt(format!("recovery parameters: {e}")))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret, nonce, &mut out)
        .map_err(|e| StoreError::Corrupt(format!("recovery derivation failed: {e}")))?;
    Ok(out)
}

/// The recovery secret as the server sends it: 64 hex digits.
fn parse_secret(secret_hex: &str) -> Result<Vec<u8>, StoreError> {
    hex::decode(secret_hex.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| StoreError::Corrupt("the device's recovery secret is not 64 hex digits".into()))
}

fn fresh_header() -> KdfHeader {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    KdfHeader {
        format: 1,
        algorithm: "argon2id".into(),
        salt: hex::encode(salt),
        m_cost_kib: KDF_M_COST_KIB,
        t_cost: KDF_T_COST,
        p_cost: KDF_P_COST,
        recovery: None,
        previous: None,
    }
}

fn read_header(db: &Path) -> Result<KdfHeader, StoreError> {
    let sidecar = salt_path(db);
    let text = std::fs::read_to_string(&sidecar).map_err(|e| {
        StoreError::Corrupt(format!("the database's key file {} cannot be read: {e}", sidecar.display()))
    })?;
    let header = serde_json::from_str::<KdfHeader>(&text)
        .map_err(|e| StoreError::Corrupt(format!("the database's key file is damaged: {e}")))?;
    if header.algorithm != "argon2id" || header.format != 1 {
        return Err(StoreError::Corrupt(format!("unknown key derivation {} v{}", header.algorithm, header.format)));
    }
    Ok(header)
}

/// Replaces the sidecar through a temporary file, flushed before the rename: a cut leaves the
/// old file or the new one, never half of one.
fn write_header(db: &Path, header: &KdfHeader) -> Result<(), StoreError> {
    use std::io::Write as _;
    let sidecar = salt_path(db);
    let mut temporary = sidecar.clone().into_os_string();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let text = serde_json::to_string_pretty(header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, &sidecar)?;
    if let Some(dir) = sidecar.parent().and_then(|d| std::fs::File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The key for `secret` from the derivation the database had before a re-key that was cut
/// short, if one was.
pub fn previous_key_for(db: &Path, secret: &str) -> Result<Option<DbKey>, StoreError> {
    match read_header(db)?.previous {
        Some(previous) => Ok(Some(derive(secret, &previous)?)),
        None => Ok(None),
    }
}

/// The device whose recovery secret unwraps this database's key, if it has a wrapped copy.
pub fn recovery_device_id(db: &Path) -> Result<Option<Uuid>, StoreError> {
    let header = read_header(db)?;
    let wrap = header.recovery.as_ref().or(header.previous.as_ref().and_then(|p| p.recovery.as_ref()));
    Ok(wrap.and_then(|w| Uuid::parse_str(&w.device_id).ok()))
}

/// The keys the recovery secret unwraps (the current one, and the previous one while a re-key
/// is unfinished). Which one opens the database, only opening tells.
pub fn recovery_keys(db: &Path, secret_hex: &str) -> Result<Vec<DbKey>, StoreError> {
    let secret = parse_secret(secret_hex)?;
    let header = read_header(db)?;
    let wraps = [header.recovery.as_ref(), header.previous.as_ref().and_then(|p| p.recovery.as_ref())];
    Ok(wraps.into_iter().flatten().filter_map(|w| w.unwrap_key(&secret)).collect())
}

/// Keeps a copy of `key` (the key that opens the database now) wrapped with the device's
/// recovery secret in the sidecar. Nothing is written when the copy there is already that.
pub fn set_recovery(db: &Path, key: &DbKey, device_id: Uuid, secret_hex: &str) -> Result<(), StoreError> {
    let secret = parse_secret(secret_hex)?;
    let mut header = read_header(db)?;
    let current = header.recovery.as_ref().filter(|w| w.device_id == device_id.to_string());
    if current.and_then(|w| w.unwrap_key(&secret)).is_some_and(|k| k == *key) {
        return Ok(());
    }
    header.recovery = Some(RecoveryWrap::new(key, device_id, &secret)?);
    write_header(db, &header)
}

impl crate::Store {
    /// Re-keys the open database at `db` for a new secret (a password changed on the server):
    /// a fresh salt, the key derived from `new_secret`, `PRAGMA rekey`, and the recovery copy
    /// wrapped again when `recovery` (device id, secret) is given. Every row stays as it was.
    /// Returns the new key.
    pub fn change_key(
        &mut self,
        db: &Path,
        new_secret: &str,
        recovery: Option<(Uuid, &str)>,
    ) -> Result<DbKey, StoreError> {
        let mut old = read_header(db)?;
        old.previous = None;
        let mut header = fresh_header();
        let key = derive(new_secret, &header)?;
        if let Some((device_id, secret_hex)) = recovery {
            header.recovery = Some(RecoveryWrap::new(&key, device_id, &parse_secret(secret_hex)?)?);
        }
        // First the new derivation with the old one kept, then the database, then the old one
        // dropped: a cut anywhere leaves a sidecar that still opens the file.
        header.previous = Some(Box::new(old));
        write_header(db, &header)?;
        self.rekey(&key)?;
        header.previous = None;
        write_header(db, &header)?;
        Ok(key)
    }
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
        read_header(db)?
    } else {
        let header = fresh_header();
        let text = serde_json::to_string_pretty(&header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        std::fs::write(&sidecar, text)?;
        header
    };
    if header.algorithm != "argon2id" || header.format != 1 {
        return Err(StoreError::Corrupt(format!("unknown key derivation {} v{}", header.algorithm, header.format)));
    }
    derive(secret, &header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, StoreError};

    const SECRET: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

    fn session_of(store: &Store) -> Option<String> {
        store.session_json().expect("read")
    }

    #[test]
    fn the_recovery_secret_opens_the_database_and_a_rekey_moves_it_to_the_new_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wa.db");
        let old_key = key_for(&path, "old password").expect("key");
        let mut store = Store::open_with_key(&path, &old_key).expect("create");
        store.set_session_json(Some("kept")).expect("write");
        let device = store.device_id();
        drop(store);
        set_recovery(&path, &old_key, device, SECRET).expect("wrapped");
        assert_eq!(recovery_device_id(&path).expect("read"), Some(device));

        // The new password does not open it; the server's secret does.
        assert!(matches!(Store::open(&path, "new password"), Err(StoreError::WrongKey)));
        let keys = recovery_keys(&path, SECRET).expect("unwrapped");
        let mut store = keys.iter().find_map(|k| Store::open_with_key(&path, k).ok()).expect("the secret opens it");
        store.change_key(&path, "new password", Some((device, SECRET))).expect("re-keyed");
        drop(store);

        let store = Store::open(&path, "new password").expect("the new password opens it");
        assert_eq!(session_of(&store).as_deref(), Some("kept"), "every row is kept");
        drop(store);
        assert!(matches!(Store::open(&path, "old password"), Err(StoreError::WrongKey)));
        assert_eq!(previous_key_for(&path, "old password").expect("read"), None);
        let keys = recovery_keys(&path, SECRET).expect("unwrapped");
        assert!(keys.iter().any(|k| Store::open_with_key(&path, k).is_ok()), "wrapped again for the new key");
    }

    #[test]
    fn another_secret_unwraps_nothing_that_opens_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wa.db");
        let key = key_for(&path, "password").expect("key");
        let store = Store::open_with_key(&path, &key).expect("create");
        let device = store.device_id();
        drop(store);
        assert!(recovery_keys(&path, SECRET).expect("no copy yet").is_empty());
        set_recovery(&path, &key, device, SECRET).expect("wrapped");
        let other = "a5".repeat(32);
        let keys = recovery_keys(&path, &other).expect("unwrapped");
        assert!(keys.iter().all(|k| matches!(Store::open_with_key(&path, k), Err(StoreError::WrongKey))));
        assert!(recovery_keys(&path, "not hex").is_err());
    }

    #[test]
    fn a_rekey_cut_before_the_database_changed_still_opens_with_the_old_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wa.db");
        let old_key = key_for(&path, "old password").expect("key");
        drop(Store::open_with_key(&path, &old_key).expect("create"));
        // The first step of a re-key, then a power cut: the sidecar names the new derivation
        // and keeps the old one.
        let mut old = read_header(&path).expect("header");
        old.previous = None;
        let mut header = fresh_header();
        header.previous = Some(Box::new(old));
        write_header(&path, &header).expect("written");
        let key = key_for(&path, "old password").expect("key");
        assert!(matches!(Store::open_with_key(&path, &key), Err(StoreError::WrongKey)));
        let previous = previous_key_for(&path, "old password").expect("read").expect("kept");
        assert!(Store::open_with_key(&path, &previous).is_ok());
    }
}
