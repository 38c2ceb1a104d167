//! One module per screen.

pub mod add_recipient;
pub mod board;
pub mod case_page;
pub mod closures;
pub mod conflicts;
pub mod household_file;
pub mod not_found;
pub mod recipient_file;
pub mod record_visit;
pub mod rejected;
pub mod roster;
pub mod sign_in;
pub mod waiting;
