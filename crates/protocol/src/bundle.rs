//! Sync by USB stick: a device without a network writes its outbox to a *bundle file*; a station
//! laptop that is online relays it to the server (`POST /v1/bundles`), which pushes it as that
//! device and answers with a *return bundle* (the push's answers and the pull pages after the
//! device's cursor), which the device imports. See `docs/sync-protocol.md`, "Sync by USB stick".
//!
//! A bundle carries the same protocol messages as a push and a pull, sealed with AES-256-GCM
//! under a key derived (HKDF-SHA256) from the device's recovery secret, which only the device and
//! the server hold: the laptop that carries it reads nothing and can change nothing unseen. The
//! two directions have keys of their own, so a bundle cannot be passed off as its answer.
//!
//! The file: `SGBUNDLE`, the format version, the kind, the bundle's id, the device's id, when it
//! was made (milliseconds since the epoch, big-endian), the nonce, then the sealed JSON. Every
//! byte before the sealed part is authenticated with it: flipping any byte of the file makes it
//! unreadable or refused as altered.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::{ApiError, PullResponse, PushRequest, PushResponse, codes};

/// The format written; files of another version are refused by name.
pub const FORMAT_VERSION: u8 = 1;
const MAGIC: &[u8; 8] = b"SGBUNDLE";
const NONCE_BYTES: usize = 12;
/// Magic, version, kind, bundle id, device id, time, nonce.
const HEADER_BYTES: usize = 8 + 1 + 1 + 16 + 16 + 8 + NONCE_BYTES;
/// The largest bundle file read: a return bundle holds a bounded number of pull pages.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;
/// The most pull pages a return bundle carries; the rest comes with the next bundle.
pub const MAX_RETURN_PAGES: usize = 10;
/// The most bytes of pull pages (as JSON) a return bundle carries, past its first page.
pub const MAX_RETURN_PAGE_BYTES: usize = 32 * 1024 * 1024;

/// Which way a bundle goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleKind {
    /// From the device to the server: its outbox.
    Outbox,
    /// From the server back to the device: the answers and the pages.
    Return,
}

impl BundleKind {
    fn byte(self) -> u8 {
        match self {
            BundleKind::Outbox => 1,
            BundleKind::Return => 2,
        }
    }

    fn from_byte(byte: u8) -> Option<BundleKind> {
        match byte {
            1 => Some(BundleKind::Outbox),
            2 => Some(BundleKind::Return),
            _ => None,
        }
    }

    fn name_zh(self) -> &'static str {
        match self {
            BundleKind::Outbox => "设备导出包",
            BundleKind::Return => "回程包",
        }
    }

    fn name_en(self) -> &'static str {
        match self {
            BundleKind::Outbox => "an outbox bundle",
            BundleKind::Return => "a return bundle",
        }
    }
}

/// What a bundle file says of itself in the clear (authenticated with its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleHeader {
    pub kind: BundleKind,
    pub bundle_id: Uuid,
    pub device_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The sealed content of an outbox bundle: a push as the device would send it, and where its
/// pull stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxBundle {
    pub bundle_id: Uuid,
    pub device_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The outbox from its first change the server has not acknowledged, as a push sends it.
    pub push: PushRequest,
    /// The device's pull cursor: the return bundle's pages follow it.
    pub pull_after: u64,
}

/// The sealed content of a return bundle: the server's answer to the outbox bundle's push and
/// the pages of the log after its cursor, for the device's scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnBundle {
    pub bundle_id: Uuid,
    /// The outbox bundle answered.
    pub answers: Uuid,
    pub device_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub push: PushResponse,
    /// Pages in order, the first after the outbox bundle's `pull_after`. The last may have more
    /// after it: those come with the next bundle, or the next online sync.
    pub pages: Vec<PullResponse>,
}

/// `POST /v1/bundles`, by the station laptop relaying a device's outbox bundle.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRelayRequest {
    /// The bundle file, base64 (standard alphabet, padded).
    pub bundle: String,
}

/// The answer to a relay: the return bundle for the device (opaque to the station), and what
/// the station may tell its user about it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRelayResponse {
    /// The return bundle file, base64.
    pub bundle: String,
    /// The device the bundles are for.
    pub device_id: Uuid,
    /// The changes in the relayed bundle.
    pub changes: u32,
    /// Of those, the ones the server had answered before (the bundle, or its changes, came
    /// before): they got their stored answers and changed nothing.
    pub answered_before: u32,
}

/// Why a bundle was not read or not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a bundle file at all, or cut short.
    #[error("not a bundle file, or an incomplete one")]
    Malformed,
    /// A bundle of a format this version does not read.
    #[error("bundle format {0} is not known to this version")]
    UnknownVersion(u8),
    /// The other kind of bundle than the one expected (an outbox bundle imported as a return).
    #[error("expected {}, found {}", .expected.name_en(), .found.name_en())]
    WrongKind { expected: BundleKind, found: BundleKind },
    /// Its seal does not hold: altered on the way, or not made by the device (or server) it names.
    #[error("the bundle was altered, or was not made by the device or server it names")]
    Tampered,
    /// Made for (or by) another device than this one.
    #[error("the bundle is for another device")]
    OtherDevice,
    /// Larger than any bundle is.
    #[error("the file is larger than any bundle")]
    TooLarge,
    /// No key to seal or open it: the device has no recovery secret from the server.
    #[error("this device has no bundle key yet; sign in online once")]
    NoKey,
    /// A return bundle older than what the device holds: imported already, or a later one was
    /// (or the device synced online since).
    #[error("this return bundle was imported already, or is older than what this device holds")]
    Stale,
}

impl BundleError {
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::Malformed => codes::BUNDLE_MALFORMED,
            BundleError::UnknownVersion(_) => codes::BUNDLE_VERSION,
            BundleError::WrongKind { .. } => codes::BUNDLE_WRONG_KIND,
            BundleError::Tampered => codes::BUNDLE_TAMPERED,
            BundleError::OtherDevice => codes::BUNDLE_OTHER_DEVICE,
            BundleError::TooLarge => codes::BUNDLE_TOO_LARGE,
            BundleError::NoKey => codes::BUNDLE_KEY_MISSING,
            BundleError::Stale => codes::BUNDLE_STALE,
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            BundleError::Malformed => "这不是同步包文件，或文件不完整".into(),
            BundleError::UnknownVersion(v) => format!("同步包格式（第{v}版）本软件不认识，请更新软件"),
            BundleError::WrongKind { expected, found } => {
                format!("这里需要{}，但这个文件是{}", expected.name_zh(), found.name_zh())
            }
            BundleError::Tampered => "同步包已被改动，或不是由其所署名的设备（或服务器）制作的，未导入任何内容".into(),
            BundleError::OtherDevice => "这个同步包属于另一台设备，未导入任何内容".into(),
            BundleError::TooLarge => "文件过大，不是同步包".into(),
            BundleError::NoKey => "本机还没有同步包密钥：请先联网登录一次".into(),
            BundleError::Stale => "这个回程包已导入过，或比本机已有的数据旧，未导入任何内容".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            BundleError::Malformed => "this is not a sync bundle file, or it is incomplete".into(),
            BundleError::UnknownVersion(v) => format!("this version does not read bundle format {v}; update the app"),
            BundleError::Tampered => {
                "the bundle was altered, or was not made by the device (or server) it names; nothing was imported"
                    .into()
            }
            BundleError::OtherDevice => "this bundle belongs to another device; nothing was imported".into(),
            BundleError::Stale => {
                "this return bundle was imported already, or is older than what this laptop holds; nothing was imported"
                    .into()
            }
            other => other.to_string(),
        }
    }

    /// The error as the server answers it (HTTP 400 unless said otherwise).
    pub fn to_api_error(&self) -> ApiError {
        ApiError::new(self.code(), self.message_zh(), self.message_en())
    }
}

/// The key sealing one direction of one device's bundles, from its recovery secret.
pub struct BundleKey([u8; 32]);

impl std::fmt::Debug for BundleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BundleKey(..)")
    }
}

impl BundleKey {
    /// Derives the key from the device's recovery secret as the server hands it out (64 hex
    /// digits): HKDF-SHA256, the direction and the device's id as its info.
    pub fn derive(secret_hex: &str, device_id: Uuid, kind: BundleKind) -> Result<BundleKey, BundleError> {
        let secret = decode_hex(secret_hex.trim()).filter(|s| s.len() == 32).ok_or(BundleError::NoKey)?;
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"shegong sync bundle v1"), &secret);
        let mut info = Vec::with_capacity(17);
        info.push(kind.byte());
        info.extend_from_slice(device_id.as_bytes());
        let mut key = [0u8; 32];
        hkdf.expand(&info, &mut key).map_err(|_| BundleError::NoKey)?;
        Ok(BundleKey(key))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// Reads what a bundle file says of itself, without opening it: enough to know whose key opens
/// it. Never panics, whatever the bytes.
pub fn read_header(bytes: &[u8]) -> Result<BundleHeader, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge);
    }
    let header = bytes.get(..HEADER_BYTES).ok_or(BundleError::Malformed)?;
    if header.get(..8) != Some(MAGIC.as_slice()) {
        return Err(BundleError::Malformed);
    }
    let version = header.get(8).copied().ok_or(BundleError::Malformed)?;
    if version != FORMAT_VERSION {
        return Err(BundleError::UnknownVersion(version));
    }
    let kind = header.get(9).copied().and_then(BundleKind::from_byte).ok_or(BundleError::Malformed)?;
    let uuid_at =
        |at: usize| header.get(at..at + 16).and_then(|b| Uuid::from_slice(b).ok()).ok_or(BundleError::Malformed);
    let bundle_id = uuid_at(10)?;
    let device_id = uuid_at(26)?;
    let millis = header
        .get(42..50)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(i64::from_be_bytes)
        .ok_or(BundleError::Malformed)?;
    let created_at = DateTime::<Utc>::from_timestamp_millis(millis).ok_or(BundleError::Malformed)?;
    Ok(BundleHeader { kind, bundle_id, device_id, created_at })
}

/// Seals `content` (JSON) as a bundle file of `header`'s kind with `key`.
fn seal(header: &BundleHeader, key: &BundleKey, content: &[u8]) -> Result<Vec<u8>, BundleError> {
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let mut out = Vec::with_capacity(HEADER_BYTES + content.len() + 16);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(header.kind.byte());
    out.extend_from_slice(header.bundle_id.as_bytes());
    out.extend_from_slice(header.device_id.as_bytes());
    out.extend_from_slice(&header.created_at.timestamp_millis().to_be_bytes());
    out.extend_from_slice(&nonce);
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| BundleError::NoKey)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: content, aad: &out })
        .map_err(|_| BundleError::TooLarge)?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a bundle file of the kind expected with `key`: its content, once its seal holds.
fn open(bytes: &[u8], expected: BundleKind, key: &BundleKey) -> Result<(BundleHeader, Vec<u8>), BundleError> {
    let header = read_header(bytes)?;
    if header.kind != expected {
        return Err(BundleError::WrongKind { expected, found: header.kind });
    }
    let (clear, sealed) = (bytes.get(..HEADER_BYTES), bytes.get(HEADER_BYTES..));
    let (Some(clear), Some(sealed)) = (clear, sealed) else { return Err(BundleError::Malformed) };
    let nonce = clear.get(HEADER_BYTES - NONCE_BYTES..).ok_or(BundleError::Malformed)?;
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| BundleError::NoKey)?;
    let content = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: clear })
        .map_err(|_| BundleError::Tampered)?;
    Ok((header, content))
}

impl OutboxBundle {
    /// The bundle file, sealed with the device's recovery secret.
    pub fn seal(&self, secret_hex: &str) -> Result<Vec<u8>, BundleError> {
        let key = BundleKey::derive(secret_hex, self.device_id, BundleKind::Outbox)?;
        let header = BundleHeader {
            kind: BundleKind::Outbox,
            bundle_id: self.bundle_id,
            device_id: self.device_id,
            created_at: self.created_at,
        };
        let content = serde_json::to_vec(self).map_err(|_| BundleError::Malformed)?;
        seal(&header, &key, &content)
    }

    /// Opens an outbox bundle with the recovery secret of the device its header names.
    pub fn open(bytes: &[u8], secret_hex: &str) -> Result<OutboxBundle, BundleError> {
        let header = read_header(bytes)?;
        let key = BundleKey::derive(secret_hex, header.device_id, BundleKind::Outbox)?;
        let (header, content) = open(bytes, BundleKind::Outbox, &key)?;
        let bundle: OutboxBundle = serde_json::from_slice(&content).map_err(|_| BundleError::Malformed)?;
        // Sealed together, so only a device's own bug could make these differ.
        if bundle.device_id != header.device_id || bundle.bundle_id != header.bundle_id {
            return Err(BundleError::Tampered);
        }
        Ok(bundle)
    }
}

impl ReturnBundle {
    /// The bundle file, sealed with the device's recovery secret (the server's direction).
    pub fn seal(&self, secret_hex: &str) -> Result<Vec<u8>, BundleError> {
        let key = BundleKey::derive(secret_hex, self.device_id, BundleKind::Return)?;
        let header = BundleHeader {
            kind: BundleKind::Return,
            bundle_id: self.bundle_id,
            device_id: self.device_id,
            created_at: self.created_at,
        };
        let content = serde_json::to_vec(self).map_err(|_| BundleError::Malformed)?;
        seal(&header, &key, &content)
    }

    /// Opens a return bundle on device `device_id`: one for another device is refused as such,
    /// before its seal is tried.
    pub fn open(bytes: &[u8], device_id: Uuid, secret_hex: &str) -> Result<ReturnBundle, BundleError> {
        let header = read_header(bytes)?;
        if header.kind != BundleKind::Return {
            return Err(BundleError::WrongKind { expected: BundleKind::Return, found: header.kind });
        }
        if header.device_id != device_id {
            return Err(BundleError::OtherDevice);
        }
        let key = BundleKey::derive(secret_hex, device_id, BundleKind::Return)?;
        let (header, content) = open(bytes, BundleKind::Return, &key)?;
        let bundle: ReturnBundle = serde_json::from_slice(&content).map_err(|_| BundleError::Malformed)?;
        if bundle.device_id != header.device_id || bundle.bundle_id != header.bundle_id {
            return Err(BundleError::Tampered);
        }
        Ok(bundle)
    }
}

/// A bundle file as the relay request carries it.
pub fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A bundle file from the relay request's text; refused when the text is not base64 or is
/// larger than any bundle.
pub fn from_base64(text: &str) -> Result<Vec<u8>, BundleError> {
    if text.len() / 4 * 3 > MAX_BUNDLE_BYTES + 3 {
        return Err(BundleError::TooLarge);
    }
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| BundleError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const OTHER_SECRET: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    fn outbox() -> OutboxBundle {
        OutboxBundle {
            bundle_id: Uuid::from_u128(1),
            device_id: Uuid::from_u128(2),
            user_id: Uuid::from_u128(3),
            created_at: DateTime::<Utc>::from_timestamp_millis(1_780_000_000_123).unwrap_or_default(),
            push: PushRequest { changes: Vec::new() },
            pull_after: 42,
        }
    }

    #[test]
    fn an_outbox_bundle_opens_with_its_devices_secret_to_what_was_sealed() {
        let sealed = outbox().seal(SECRET).expect("sealed");
        assert_eq!(OutboxBundle::open(&sealed, SECRET), Ok(outbox()));
        let header = read_header(&sealed).expect("header");
        assert_eq!((header.kind, header.device_id), (BundleKind::Outbox, Uuid::from_u128(2)));
        assert_eq!(header.created_at, outbox().created_at);
    }

    #[test]
    fn any_byte_flipped_anywhere_in_a_bundle_is_refused() {
        let sealed = outbox().seal(SECRET).expect("sealed");
        for at in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[at] ^= 0x01;
            assert!(OutboxBundle::open(&altered, SECRET).is_err(), "byte {at} flipped was taken");
        }
    }

    #[test]
    fn another_secret_does_not_open_a_bundle() {
        let sealed = outbox().seal(SECRET).expect("sealed");
        assert_eq!(OutboxBundle::open(&sealed, OTHER_SECRET), Err(BundleError::Tampered));
    }

    #[test]
    fn an_outbox_bundle_is_not_taken_as_a_return_bundle() {
        let sealed = outbox().seal(SECRET).expect("sealed");
        let found = ReturnBundle::open(&sealed, Uuid::from_u128(2), SECRET);
        assert_eq!(found, Err(BundleError::WrongKind { expected: BundleKind::Return, found: BundleKind::Outbox }));
    }

    #[test]
    fn a_return_bundle_for_another_device_is_refused_as_such() {
        let answer = ReturnBundle {
            bundle_id: Uuid::from_u128(9),
            answers: Uuid::from_u128(1),
            device_id: Uuid::from_u128(2),
            created_at: Utc::now(),
            push: PushResponse { results: Vec::new(), next_expected_seq: 1 },
            pages: Vec::new(),
        };
        let sealed = answer.seal(SECRET).expect("sealed");
        assert_eq!(ReturnBundle::open(&sealed, Uuid::from_u128(7), SECRET), Err(BundleError::OtherDevice));
        assert_eq!(ReturnBundle::open(&sealed, Uuid::from_u128(2), SECRET).map(|b| b.answers), Ok(Uuid::from_u128(1)));
    }

    #[test]
    fn a_truncated_or_foreign_file_is_not_a_bundle_and_a_future_format_says_so() {
        let sealed = outbox().seal(SECRET).expect("sealed");
        assert_eq!(read_header(&sealed[..20]), Err(BundleError::Malformed));
        assert_eq!(
            read_header(b"PK\x03\x04 a zip file, not a bundle at all, long enough to be read"),
            Err(BundleError::Malformed)
        );
        let mut future = sealed.clone();
        future[8] = 2;
        assert_eq!(read_header(&future), Err(BundleError::UnknownVersion(2)));
        let cut = &sealed[..sealed.len() - 1];
        assert_eq!(OutboxBundle::open(cut, SECRET), Err(BundleError::Tampered));
    }

    #[test]
    fn a_secret_that_is_not_64_hex_digits_gives_no_key() {
        for secret in ["", "zz", &SECRET[..62], "é".repeat(32).as_str()] {
            assert_eq!(outbox().seal(secret), Err(BundleError::NoKey), "{secret:?}");
        }
    }

    #[test]
    fn every_error_speaks_both_languages_with_a_bundle_code() {
        let errors = [
            BundleError::Malformed,
            BundleError::UnknownVersion(3),
            BundleError::WrongKind { expected: BundleKind::Return, found: BundleKind::Outbox },
            BundleError::Tampered,
            BundleError::OtherDevice,
            BundleError::TooLarge,
            BundleError::NoKey,
            BundleError::Stale,
        ];
        for error in errors {
            assert!(error.code().starts_with("bundle_"), "{error:?}");
            assert!(!error.message_zh().is_ascii() && error.message_en().is_ascii(), "{error:?}");
        }
    }
}
