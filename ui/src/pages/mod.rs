//! One module per screen.

pub mod add_recipient;
pub mod not_found;
pub mod rejected;
pub mod roster;
pub mod sign_in;
