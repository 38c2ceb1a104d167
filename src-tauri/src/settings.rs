//! Settings of this computer that outlive a session (the UI's language), kept as a small JSON
//! file in the app's config directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::Language;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub language: Language,
    /// Allows plain `http://` to a sync server on another computer (passwords and tokens then
    /// cross the network unencrypted). Off: only `https://`, or `http://` on this computer. Set
    /// by an administrator in the settings file; `SHEGONG_ALLOW_INSECURE_HTTP=1` does the same.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

pub fn settings_path(config_dir: &Path) -> PathBuf {
    config_dir.join("settings.json")
}

/// The saved settings; defaults when there are none or the file cannot be read.
pub fn load(config_dir: &Path) -> Settings {
    let path = settings_path(config_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "unreadable settings; using defaults");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

/// Writes the settings through a temporary file, so a crash never leaves half a file.
pub fn save(config_dir: &Path, settings: &Settings) -> std::io::Result<()> {
    std::fs::create_dir_all(config_dir)?;
    let path = settings_path(config_dir);
    let temporary = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, json)?;
    std::fs::rename(&temporary, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_remembered_and_chinese_is_the_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()).language, Language::Zh);
        save(dir.path(), &Settings { language: Language::En, ..Settings::default() }).expect("save");
        assert_eq!(load(dir.path()).language, Language::En);
    }

    #[test]
    fn plain_http_to_other_computers_is_off_unless_the_settings_file_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(settings_path(dir.path()), br#"{"language":"zh"}"#).expect("write");
        assert!(!load(dir.path()).allow_insecure_http);
        std::fs::write(settings_path(dir.path()), br#"{"allow_insecure_http":true}"#).expect("write");
        assert!(load(dir.path()).allow_insecure_http);
    }

    #[test]
    fn an_unreadable_settings_file_falls_back_to_the_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(settings_path(dir.path()), b"{ not json").expect("write");
        assert_eq!(load(dir.path()), Settings::default());
    }
}
