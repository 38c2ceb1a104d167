//! Shegong's report renderers: a [`Report`](contract::Report) (sections of tables with bilingual
//! headings) as an `.xlsx` workbook ([`xlsx`]) and as a printable PDF ([`pdf`]) with the station's
//! name and the period in every page's header. The figures are the app's (`app::report`); this
//! crate only lays them out, in the language asked for.

pub mod font;
pub mod pdf;
pub mod xlsx;

/// Why a report could not be rendered. Code [`RenderError::CODE`]; the details are logged.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No font with Chinese glyphs was found (the PDF needs one to embed).
    #[error("no CJK font found (looked in {0})")]
    NoFont(String),
    #[error("the font {0} cannot be read: {1}")]
    BadFont(String, String),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("pdf: {0}")]
    Pdf(String),
}

impl RenderError {
    pub const CODE: &'static str = contract::codes::REPORT_NOT_RENDERED;
}

pub use font::ReportFont;
pub use pdf::render_pdf;
pub use xlsx::render_xlsx;
