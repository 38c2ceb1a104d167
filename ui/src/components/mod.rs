//! Pieces shared by the pages: the header with the role's navigation and the language switch, the
//! sync status bar, form fields that show their own error, and the form generated from an entity's
//! field specs.

pub mod charts;
pub mod field;
pub mod hand_over_offers;
pub mod handed_over;
pub mod header;
pub mod ledger;
pub mod open_case;
pub mod overdue_referrals;
pub mod person_picker;
pub mod print;
pub mod spec_form;
pub mod status_bar;
pub mod usb_bundle;
