//! The font the PDF embeds: one with Chinese glyphs, found on the machine (Debian's
//! fonts-wqy-microhei, which `scripts/setup.sh` installs, or Noto CJK), or named by
//! `SHEGONG_REPORT_FONT` (a `.ttf`, `.otf` or `.ttc`; a collection's first face is used).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::RenderError;

/// Where the usual CJK fonts of Debian and other Linux systems are, in order of preference.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
];

/// A font's bytes, loaded once and shared by every document rendered with it.
#[derive(Clone)]
pub struct ReportFont {
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) path: PathBuf,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportFont").field("path", &self.path).field("bytes", &self.data.len()).finish()
    }
}

impl ReportFont {
    /// The font named by `SHEGONG_REPORT_FONT`, else the first of the usual places that holds one.
    pub fn find() -> Result<ReportFont, RenderError> {
        if let Some(path) = std::env::var_os("SHEGONG_REPORT_FONT") {
            return ReportFont::load(Path::new(&path));
        }
        match CANDIDATES.iter().map(Path::new).find(|p| p.is_file()) {
            Some(path) => ReportFont::load(path),
            None => Err(RenderError::NoFont(CANDIDATES.join(", "))),
        }
    }

    /// The font in the file at `path`, checked to be one krilla reads.
    pub fn load(path: &Path) -> Result<ReportFont, RenderError> {
        let bad = |e: String| RenderError::BadFont(path.display().to_string(), e);
        let data = Arc::new(std::fs::read(path).map_err(|e| bad(e.to_string()))?);
        let font = ReportFont { data, path: path.to_owned() };
        font.krilla().ok_or_else(|| bad("not a TrueType or OpenType font".into()))?;
        Ok(font)
    }

    pub(crate) fn krilla(&self) -> Option<krilla::text::Font> {
        krilla::text::Font::new(self.data.clone().into(), 0)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
