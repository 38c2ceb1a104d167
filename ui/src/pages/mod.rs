//! One module per screen.

pub mod activities;
pub mod add_recipient;
pub mod board;
pub mod case_page;
pub mod closures;
pub mod conflicts;
pub mod household_file;
pub mod not_found;
pub mod recipient_file;
pub mod record_visit;
pub mod referrals;
pub mod rejected;
pub mod reports;
pub mod resources;
pub mod roster;
pub mod sign_in;
pub mod standards;
pub mod supervision;
pub mod training;
pub mod waiting;
