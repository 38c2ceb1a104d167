//! Sync by USB stick (同步包): a device without a network writes its outbox to a bundle file; the
//! station laptop, online, relays it to the server and writes the return bundle beside it; the
//! device imports the return bundle. The bundles are sealed with the device's recovery secret
//! (`protocol::bundle`), which the online sign-in handed the device and its saved session keeps;
//! the station laptop reads neither. See `sync_client::export_outbox` and `import_return`.

use std::path::{Path, PathBuf};

use contract::{BundleExportView, BundleImportView, BundleRelayView, CommandError, codes};
use protocol::bundle::{BundleError, MAX_BUNDLE_BYTES};
use sync_client::HttpTransport;

use crate::Moment;
use crate::account::{Account, session_saver};
use crate::error::AppError;

/// The extension of bundle files, so a folder on the stick shows them together.
pub const BUNDLE_EXTENSION: &str = "sgbundle";
/// The field the page's path box is, for errors at it.
pub const PATH_FIELD: &str = "path";

/// A path as typed: trimmed, not empty, not longer than a path is. Never panics, whatever was
/// typed (it runs on every command).
pub fn bundle_path(typed: &str) -> Result<PathBuf, AppError> {
    let path = typed.trim();
    if path.is_empty() {
        return Err(AppError::BundleFile {
            zh: "请填写同步包文件的路径".into(),
            en: "Type the bundle file's path.".into(),
        });
    }
    if path.len() > 4096 || path.contains('\0') {
        return Err(AppError::BundleFile { zh: "路径无效".into(), en: "This is not a valid path.".into() });
    }
    Ok(PathBuf::from(path))
}

/// Writes the outbox as a bundle at `path` (a folder: a file named for the device and the time
/// in it). The outbox stays as it is: the return bundle marks what the server took.
pub fn export_bundle(account: &Account, path: &str, moment: Moment) -> Result<BundleExportView, AppError> {
    let path = bundle_path(path)?;
    let secret = secret(account)?;
    let exported = sync_client::export_outbox(&account.store, account.actor.user_id, &secret, moment.now)?;
    let target = if path.is_dir() {
        let device = account.store.device_id().simple().to_string();
        let short = device.get(..8).unwrap_or(&device);
        path.join(format!("shegong-{short}-{}.{BUNDLE_EXTENSION}", moment.now.format("%Y%m%d-%H%M%S")))
    } else {
        path
    };
    write(&target, &exported.bytes)?;
    Ok(BundleExportView {
        path: target.display().to_string(),
        bundle_id: exported.bundle_id,
        changes: exported.changes as u64,
    })
}

/// At the station, online: relays the outbox bundle at `path` to the server as it is and writes
/// the return bundle beside it (`…-return.sgbundle`).
pub fn relay_bundle(account: &mut Account, path: &str) -> Result<BundleRelayView, AppError> {
    let path = bundle_path(path)?;
    let bytes = read(&path)?;
    let session = account.session.clone().ok_or(AppError::NotSignedIn)?;
    let started_with = account.store.session_json()?;
    let saver = session_saver(account.path.clone(), account.key.clone(), account.server_url.clone(), started_with);
    let mut transport = HttpTransport::new(&account.server_url, session)
        .map_err(|e| AppError::Relay(e.into()))?
        .with_session_saver(saver);
    let relayed = transport.relay_bundle(&bytes);
    if let Some(refreshed) = transport.take_refreshed_session() {
        account.session = Some(refreshed);
    }
    let (answer, relayed) = relayed.map_err(AppError::Relay)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "shegong".into());
    let target = path.with_file_name(format!("{stem}-return.{BUNDLE_EXTENSION}"));
    write(&target, &answer)?;
    Ok(BundleRelayView {
        path: target.display().to_string(),
        device_id: relayed.device_id,
        changes: u64::from(relayed.changes),
        answered_before: u64::from(relayed.answered_before),
    })
}

/// Imports the return bundle at `path`: the server's answers to the outbox and what it had new
/// for this device, taken in as a sync round would. Refused as a whole, with the reason, when
/// it is not this device's, was altered, or is older than what the device holds.
pub fn import_bundle(account: &mut Account, path: &str) -> Result<BundleImportView, AppError> {
    let path = bundle_path(path)?;
    let bytes = read(&path)?;
    let secret = secret(account)?;
    let imported = sync_client::import_return(&mut account.store, &secret, &bytes)?;
    account.refresh_actor()?;
    Ok(BundleImportView {
        accepted: imported.accepted as u64,
        rejected: imported.rejected as u64,
        pulled: imported.pulled as u64,
        more_waiting: imported.more_waiting,
    })
}

/// The device's recovery secret, which seals its bundles: from the saved session, when it is
/// this database's device's.
fn secret(account: &Account) -> Result<String, AppError> {
    account
        .session
        .as_ref()
        .filter(|session| session.device_id == account.store.device_id())
        .and_then(|session| session.device_secret.clone())
        .ok_or(AppError::Bundle(BundleError::NoKey))
}

fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    let size = std::fs::metadata(path).map_err(|e| file_error(path, &e))?.len();
    if size > MAX_BUNDLE_BYTES as u64 {
        return Err(AppError::Bundle(BundleError::TooLarge));
    }
    std::fs::read(path).map_err(|e| file_error(path, &e))
}

/// Written whole or not at all: a stick pulled out mid-write leaves no half bundle under the
/// name (a half one would only be refused, but the user would not know why).
fn write(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(|e| file_error(path, &e))?;
    std::fs::rename(&partial, path).map_err(|e| file_error(path, &e))
}

fn file_error(path: &Path, e: &std::io::Error) -> AppError {
    tracing::info!(error = %e, "a bundle file could not be read or written");
    AppError::BundleFile {
        zh: format!("无法读写文件 {}（{}）", path.display(), io_reason_zh(e.kind())),
        en: format!("The file {} could not be read or written ({e}).", path.display()),
    }
}

fn io_reason_zh(kind: std::io::ErrorKind) -> &'static str {
    match kind {
        std::io::ErrorKind::NotFound => "找不到文件或文件夹",
        std::io::ErrorKind::PermissionDenied => "没有权限",
        _ => "读写出错",
    }
}

/// A bundle's refusal as the page shows it: the bundle's code, at the path field.
pub fn bundle_error_to_command(e: &BundleError) -> CommandError {
    CommandError::new(e.code(), e.message_zh(), contract::sentence(&e.message_en())).at_field(PATH_FIELD)
}

/// A file that could not be read or written, at the path field.
pub fn file_error_to_command(zh: &str, en: &str) -> CommandError {
    CommandError::new(codes::BUNDLE_FILE, zh, en).at_field(PATH_FIELD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_codes_the_ui_reads_are_the_protocols() {
        let pairs = [
            (codes::BUNDLE_MALFORMED, protocol::codes::BUNDLE_MALFORMED),
            (codes::BUNDLE_VERSION, protocol::codes::BUNDLE_VERSION),
            (codes::BUNDLE_WRONG_KIND, protocol::codes::BUNDLE_WRONG_KIND),
            (codes::BUNDLE_TAMPERED, protocol::codes::BUNDLE_TAMPERED),
            (codes::BUNDLE_OTHER_DEVICE, protocol::codes::BUNDLE_OTHER_DEVICE),
            (codes::BUNDLE_TOO_LARGE, protocol::codes::BUNDLE_TOO_LARGE),
            (codes::BUNDLE_KEY_MISSING, protocol::codes::BUNDLE_KEY_MISSING),
            (codes::BUNDLE_STALE, protocol::codes::BUNDLE_STALE),
        ];
        for (contract, protocol) in pairs {
            assert_eq!(contract, protocol);
        }
    }

    #[test]
    fn an_empty_path_is_refused_at_the_path_field_in_both_languages() {
        let error = CommandError::from(bundle_path("  ").expect_err("empty"));
        assert_eq!((error.code.as_str(), error.field.as_deref()), (codes::BUNDLE_FILE, Some(PATH_FIELD)));
        assert!(error.message_zh.contains("路径") && error.message_en.contains("path"));
    }

    #[test]
    fn a_refused_bundle_reaches_the_ui_with_its_code_at_the_path_field() {
        let error = CommandError::from(AppError::Bundle(BundleError::Stale));
        assert_eq!((error.code.as_str(), error.field.as_deref()), (codes::BUNDLE_STALE, Some(PATH_FIELD)));
        assert!(error.message_zh.contains("已导入过"));
    }

    #[test]
    fn a_file_that_is_not_there_is_named_in_the_error() {
        let missing = std::env::temp_dir().join("shegong-no-such-bundle.sgbundle");
        let error = CommandError::from(read(&missing).expect_err("missing"));
        assert_eq!(error.code, codes::BUNDLE_FILE);
        assert!(error.message_zh.contains("找不到"), "{}", error.message_zh);
    }

    proptest::proptest! {
        #[test]
        fn any_typed_path_gives_a_path_or_an_error_at_the_field(typed in "\\PC{0,300}") {
            match bundle_path(&typed) {
                Ok(path) => proptest::prop_assert_eq!(path.as_os_str().to_string_lossy(), typed.trim()),
                Err(e) => {
                    let error = CommandError::from(e);
                    proptest::prop_assert_eq!(error.field.as_deref(), Some(PATH_FIELD));
                }
            }
        }
    }
}
