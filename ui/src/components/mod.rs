//! Pieces shared by the pages: the header with navigation and the language switch, the sync
//! status bar, and form fields that show their own error.

pub mod field;
pub mod header;
pub mod status_bar;
