//! Where things are: the workspace, the cargo target directory the tests were built into, the
//! binaries built beside them, and where screenshots go.

use std::path::{Path, PathBuf};

use crate::{HarnessError, Result};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The profile directory the running test was built into (e.g. `target/debug`): test
/// executables live in its `deps/` subdirectory.
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(HarnessError::io("finding the test executable"))?;
    let deps = exe.parent().ok_or_else(|| HarnessError::Setup("the test executable has no directory".into()))?;
    let profile = if deps.file_name().is_some_and(|n| n == "deps") { deps.parent() } else { Some(deps) };
    profile.map(Path::to_path_buf).ok_or_else(|| HarnessError::Setup("no profile directory above the test".into()))
}

/// The cargo target directory (`target/` or `$CARGO_TARGET_DIR`).
pub fn target_dir() -> Result<PathBuf> {
    let profile = profile_dir()?;
    profile.parent().map(Path::to_path_buf).ok_or_else(|| HarnessError::Setup("no target directory".into()))
}

/// A binary of the workspace, built in the same profile as the running test.
pub fn binary(name: &str) -> Result<PathBuf> {
    let path = profile_dir()?.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::Setup(format!(
            "{} is missing: build the workspace's binaries first (`cargo build`, as scripts/test.sh does)",
            path.display()
        )))
    }
}

/// Where the end-to-end tests save screenshots: `<target>/e2e/`, created if needed.
pub fn screenshot_dir() -> Result<PathBuf> {
    let dir = target_dir()?.join("e2e");
    std::fs::create_dir_all(&dir).map_err(HarnessError::io(format!("creating {}", dir.display())))?;
    Ok(dir)
}
