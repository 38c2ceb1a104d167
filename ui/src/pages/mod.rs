//! One module per screen.

pub mod add_recipient;
pub mod rejected;
pub mod roster;
pub mod sign_in;
